package neutron

import (
	"context"
	"path/filepath"

	"github.com/mogan-manage/mogan-manage/testenv/internal/jsonapi"
	"github.com/mogan-manage/mogan-manage/testenv/internal/service"
)

// Neutron is a running standalone Neutron.
type Neutron struct {
	// URL is the endpoint without the API version, e.g.
	// http://127.0.0.1:41234, as a keystoneauth endpoint_override.
	URL string
	// PID is the server, leader of its own process group (Neutron's forked
	// workers are in it too).
	PID int

	proc *service.Process
	api  *jsonapi.Client
}

type options struct {
	paginationMaxLimit int
	outliveParent      bool
}

// Option changes how Start configures Neutron.
type Option func(*options)

// WithPaginationMaxLimit sets [DEFAULT] pagination_max_limit: the largest
// page Neutron answers, with a next link when a page is full. Tests set it
// small so that clients must follow pages. The default is unlimited.
func WithPaginationMaxLimit(n int) Option {
	return func(o *options) { o.paginationMaxLimit = n }
}

// WithOutliveParent keeps Neutron running after the process that started
// it exits, for a command that starts it and returns (the demo's
// openstack-standalone); it must then be stopped through Attach. By
// default Neutron kills itself once its parent is gone, so that a test that
// dies without Stop leaves nothing behind.
func WithOutliveParent() Option {
	return func(o *options) { o.outliveParent = true }
}

// Attach returns a handle on a Neutron that another process started with
// WithOutliveParent and recorded as url and pid, for requests and Stop.
func Attach(url string, pid int) *Neutron {
	return newNeutron(url, service.Attach(pid, 0))
}

func newNeutron(url string, proc *service.Process) *Neutron {
	// A nil jsonapi.Client.HTTP has a 30 s timeout.
	api := &jsonapi.Client{URL: url + "/v2.0", Name: "neutron", NotFound: ErrNotFound}
	return &Neutron{URL: url, PID: proc.PID, proc: proc, api: api}
}

// Start runs Neutron with its files in dir (which the caller owns and
// removes) and waits until its API answers. ctx bounds start-up only; the
// process runs until Stop. Start takes about ten seconds, most of it
// Python importing Neutron: start one per test package.
func Start(ctx context.Context, dir string, opts ...Option) (*Neutron, error) {
	o := options{paginationMaxLimit: -1}
	for _, opt := range opts {
		opt(&o)
	}
	dir, port, err := service.Prepare(dir)
	if err != nil {
		return nil, err
	}
	conf, pythonPath, err := writeFiles(dir, port, o.paginationMaxLimit)
	if err != nil {
		return nil, err
	}
	url := "http://127.0.0.1:" + port
	// The launcher exits service.NotInstalled when it cannot import
	// Neutron: no separate check, which would import it once more.
	proc, err := service.Start(ctx, service.Options{
		Name:          "neutron",
		Package:       "python3-neutron",
		Dir:           dir,
		Script:        filepath.Join(dir, "standalone.py"),
		Args:          []string{conf, filepath.Join(dir, "neutron.db"), filepath.Join(dir, "policy.json")},
		Env:           []string{"PYTHONPATH=" + pythonPath},
		Log:           filepath.Join(dir, "neutron.log"),
		ReadyURL:      url + "/v2.0/networks?limit=1",
		OutliveParent: o.outliveParent,
	})
	if err != nil {
		return nil, err
	}
	return newNeutron(url, proc), nil
}

// Stop ends Neutron's process group, politely first, and returns once no
// process of the group is left. Calling it twice is harmless.
func (n *Neutron) Stop() { n.proc.Stop() }

// Processes returns the pids of the server's process group that still
// run (zombies excluded): the server and its forked workers. Tests use it
// to check that Stop leaves nothing behind.
func (n *Neutron) Processes() []int { return n.proc.Processes() }
