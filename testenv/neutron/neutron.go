package neutron

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
)

// python is the interpreter that sees Debian's python3-neutron; the first
// python3 on PATH may be another one.
const python = "/usr/bin/python3"

// notInstalled is the launcher's exit code when it cannot import Neutron.
const notInstalled = 3

// Neutron is a running standalone Neutron.
type Neutron struct {
	// URL is the endpoint without the API version, e.g.
	// http://127.0.0.1:41234, as a keystoneauth endpoint_override.
	URL string
	// PID is the server, leader of its own process group (Neutron's forked
	// workers are in it too).
	PID int

	log    string
	exited chan struct{} // closed once the leader is reaped
	client *http.Client
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
	exited := make(chan struct{})
	close(exited) // not our child: nothing to reap, Stop watches the group
	return &Neutron{URL: url, PID: pid, exited: exited, client: &http.Client{Timeout: 30 * time.Second}}
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
	conf, pythonPath, err := writeFiles(dir, port, o.paginationMaxLimit)
	if err != nil {
		return nil, err
	}
	n := &Neutron{
		URL:    "http://127.0.0.1:" + port,
		log:    filepath.Join(dir, "neutron.log"),
		exited: make(chan struct{}),
		client: &http.Client{Timeout: 30 * time.Second},
	}
	logFile, err := os.Create(n.log)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }() // the child holds its own descriptor

	parent := os.Getpid() // 0: no watch
	if o.outliveParent {
		parent = 0
	}
	cmd := exec.Command(python, filepath.Join(dir, "standalone.py"), conf,
		filepath.Join(dir, "neutron.db"), filepath.Join(dir, "policy.json"), strconv.Itoa(parent))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pythonPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own session: terminal signals stay away, and Stop ends the group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start neutron with %s: %w", python, err)
	}
	n.PID = cmd.Process.Pid
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(n.exited)
	}()

	if err := n.waitReady(ctx); err != nil {
		n.Stop()
		var exit *exec.ExitError
		if errors.As(waitErr, &exit) && exit.ExitCode() == notInstalled {
			return nil, errors.New("python3-neutron is not installed: run `make test-deps`")
		}
		return nil, fmt.Errorf("neutron: %w; %s:\n%s", err, n.log, n.tail(20))
	}
	return n, nil
}

// waitReady polls the API until it lists networks, the server exits, or
// ctx ends.
func (n *Neutron) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-n.exited:
			return errors.New("exited before answering")
		case <-ctx.Done():
			return fmt.Errorf("did not answer at %s: %w", n.URL, ctx.Err())
		case <-tick.C:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.URL+"/v2.0/networks?limit=1", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
}

// Stop ends Neutron's process group, politely first, and returns once no
// process of the group is left. Calling it twice is harmless.
func (n *Neutron) Stop() {
	if n.PID <= 0 {
		return
	}
	_ = syscall.Kill(-n.PID, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	killed := false
	for len(n.Processes()) > 0 {
		if !killed && time.Now().After(deadline) {
			_ = syscall.Kill(-n.PID, syscall.SIGKILL)
			killed = true
		}
		time.Sleep(50 * time.Millisecond)
	}
	<-n.exited
}

// Processes returns the pids of the server's process group that still
// run (zombies excluded): the server and its forked workers. Tests use it
// to check that Stop leaves nothing behind.
func (n *Neutron) Processes() []int {
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
		if len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(n.PID) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// tail returns the last n lines of Neutron's log, for error messages.
func (n *Neutron) tail(lines int) string {
	b, err := os.ReadFile(n.log)
	if err != nil {
		return err.Error()
	}
	l := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
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
