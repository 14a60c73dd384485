package glance

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/mogan-manage/mogan-manage/testenv/internal/jsonapi"
	"github.com/mogan-manage/mogan-manage/testenv/internal/pydeb"
	"github.com/mogan-manage/mogan-manage/testenv/internal/service"
)

// Glance is a running standalone Glance.
type Glance struct {
	// URL is the endpoint without the API version, e.g.
	// http://127.0.0.1:41234, as a keystoneauth endpoint_override.
	URL string
	// PID is the server, leader of its own process group.
	PID int

	proc *service.Process
	api  *jsonapi.Client
}

type options struct {
	pageLimit     int
	outliveParent bool
}

// Option changes how Start configures Glance.
type Option func(*options)

// WithPageLimit sets Glance's limit_param_default and api_limit_max: the
// largest page it answers, with a next link when a page is full. Tests set
// it small so that clients must follow pages. The default is 1000.
func WithPageLimit(n int) Option {
	return func(o *options) { o.pageLimit = max(n, 1) }
}

// WithOutliveParent keeps Glance running after the process that started
// it exits, for a command that starts it and returns (the demo's
// openstack-standalone); it must then be stopped through Attach. By
// default Glance kills itself once its parent is gone, so that a test that
// dies without Stop leaves nothing behind.
func WithOutliveParent() Option {
	return func(o *options) { o.outliveParent = true }
}

// Attach returns a handle on a Glance that another process started with
// WithOutliveParent and recorded as url and pid, for requests and Stop.
func Attach(url string, pid int) *Glance {
	return newGlance(url, service.Attach(pid, 0))
}

func newGlance(url string, proc *service.Process) *Glance {
	// A nil jsonapi.Client.HTTP has a 30 s timeout.
	api := &jsonapi.Client{URL: url + "/v2", Name: "glance", NotFound: ErrNotFound}
	return &Glance{URL: url, PID: proc.PID, proc: proc, api: api}
}

// Start runs Glance with its files in dir (which the caller owns and
// removes): it writes glance-api.conf, the paste ini and a policy file
// opening every rule, creates the schema, starts the API and waits until it
// answers. ctx bounds start-up only; the process runs until Stop. Start
// takes about seven seconds, most of it Python importing Glance twice.
func Start(ctx context.Context, dir string, opts ...Option) (*Glance, error) {
	o := options{pageLimit: 1000}
	for _, opt := range opts {
		opt(&o)
	}
	if err := pydeb.Require(ctx, "python3-glance", "glance.cmd"); err != nil {
		return nil, err
	}
	dir, port, err := service.Prepare(dir)
	if err != nil {
		return nil, err
	}
	conf, err := writeFiles(dir, port, o.pageLimit)
	if err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "standalone.py")
	setup := exec.CommandContext(ctx, pydeb.Python, script, "setup", conf,
		filepath.Join(dir, "glance.db"), filepath.Join(dir, "policy.json"))
	setup.Dir = dir
	if out, err := setup.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("glance: policy and db_sync: %w\n%s", err, service.Tail(string(out), 20))
	}

	url := "http://127.0.0.1:" + port
	proc, err := service.Start(ctx, service.Options{
		Name:          "glance-api",
		Package:       "python3-glance",
		Dir:           dir,
		Script:        script,
		Args:          []string{"serve", conf},
		Log:           filepath.Join(dir, "glance-api.log"),
		ReadyURL:      url + "/v2/images?limit=1",
		OutliveParent: o.outliveParent,
	})
	if err != nil {
		return nil, err
	}
	return newGlance(url, proc), nil
}

// Stop ends Glance's process group, politely first, and waits until none
// of it runs. Calling it twice is harmless.
func (g *Glance) Stop() { g.proc.Stop() }

// Processes returns the pids of the server's process group that still run
// (zombies excluded). Tests use it to check that Stop leaves nothing behind.
func (g *Glance) Processes() []int { return g.proc.Processes() }
