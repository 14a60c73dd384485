package glance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/internal/pydeb"
)

// notInstalled is the launcher's exit code when it cannot import Glance.
const notInstalled = 3

// Glance is a running standalone Glance.
type Glance struct {
	// URL is the endpoint without the API version, e.g.
	// http://127.0.0.1:41234, as a keystoneauth endpoint_override.
	URL string
	// PID is the server, leader of its own process group.
	PID int

	log    string
	exited chan struct{} // closed once the leader is reaped
	client *http.Client
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
	exited := make(chan struct{})
	close(exited) // not our child: nothing to reap, Stop watches the group
	return &Glance{URL: url, PID: pid, exited: exited, client: &http.Client{Timeout: 30 * time.Second}}
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
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	port, err := freePort()
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
		return nil, fmt.Errorf("glance: policy and db_sync: %w\n%s", err, tail(string(out), 20))
	}

	g := &Glance{
		URL:    "http://127.0.0.1:" + port,
		log:    filepath.Join(dir, "glance-api.log"),
		exited: make(chan struct{}),
		client: &http.Client{Timeout: 30 * time.Second},
	}
	logFile, err := os.Create(g.log)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }() // the child holds its own descriptor

	// Not CommandContext: the server outlives ctx, which bounds start-up.
	parent := os.Getpid() // 0: no watch
	if o.outliveParent {
		parent = 0
	}
	cmd := exec.Command(pydeb.Python, script, "serve", conf, strconv.Itoa(parent))
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own session: terminal signals stay away, and Stop ends the group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start glance-api with %s: %w", pydeb.Python, err)
	}
	g.PID = cmd.Process.Pid
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(g.exited)
	}()

	if err := g.waitReady(ctx); err != nil {
		g.Stop()
		var exit *exec.ExitError
		if errors.As(waitErr, &exit) && exit.ExitCode() == notInstalled {
			return nil, errors.New("python3-glance is not installed: run `make test-deps`")
		}
		return nil, fmt.Errorf("glance: %w; %s:\n%s", err, g.log, g.tail(20))
	}
	return g, nil
}

// waitReady polls the API until it lists images, the server exits, or ctx
// ends.
func (g *Glance) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-g.exited:
			return errors.New("exited before answering")
		case <-ctx.Done():
			return fmt.Errorf("did not answer at %s: %w", g.URL, ctx.Err())
		case <-tick.C:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"/v2/images?limit=1", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
}

// Stop ends Glance's process group, politely first, and waits until none
// of it runs. Calling it twice is harmless.
func (g *Glance) Stop() {
	if g.PID <= 0 {
		return
	}
	select {
	case <-g.exited:
		if len(g.Processes()) == 0 {
			return
		}
	default:
	}
	_ = syscall.Kill(-g.PID, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	killed := false
	for len(g.Processes()) > 0 {
		if !killed && time.Now().After(deadline) {
			_ = syscall.Kill(-g.PID, syscall.SIGKILL)
			killed = true
		}
		time.Sleep(50 * time.Millisecond)
	}
	<-g.exited
}

// Processes returns the pids of the server's process group that still run
// (zombies excluded). Tests use it to check that Stop leaves nothing behind.
func (g *Glance) Processes() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// After the parenthesised command name, which may hold spaces:
		// state, ppid, pgrp, …
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(g.PID) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// tail returns the last lines of Glance's log, for error messages.
func (g *Glance) tail(lines int) string {
	b, err := os.ReadFile(g.log)
	if err != nil {
		return err.Error()
	}
	return tail(string(b), lines)
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}
