// Package service runs a standalone Python service for a harness (Ironic,
// Glance, Neutron, Keystone): Debian's /usr/bin/python3 in its own session
// and process group, its output in a log file, a thread in the interpreter
// that kills the group once the Go process that started it is gone, a wait
// until the service answers, and a Stop that ends the whole group (forked
// workers included) politely first. Harnesses keep what differs: the
// configuration, the launcher and the API they speak.
package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/internal/pydeb"
	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// NotInstalled is the exit code of a launcher that cannot import its
// service: Start then answers "<Package> is not installed: run `make
// test-deps`" instead of a traceback.
const NotInstalled = 3

// defaultStopTimeout is how long Stop waits after SIGTERM before SIGKILL.
const defaultStopTimeout = 10 * time.Second

// Options say what to run and how to tell it serves.
type Options struct {
	// Name names the service in errors, e.g. "glance-api".
	Name string
	// Package is the Debian package that provides the service, named when
	// the launcher exits NotInstalled, e.g. "python3-glance".
	Package string
	// Dir is the working directory.
	Dir string
	// Script is the launcher to run, with Args as its arguments. Code is
	// Python source to run instead (python3 -c), for a launcher that
	// needs no file.
	Script, Code string
	Args         []string
	// Env is added to the environment, as "NAME=value".
	Env []string
	// Log receives the service's stdout and stderr.
	Log string
	// ReadyURL answers 200 once the service serves; Start polls it.
	ReadyURL string
	// OutliveParent keeps the service running after the process that
	// started it exits (a command that starts it and returns); it must
	// then be stopped through Attach. By default it kills its group once
	// its parent is gone, so that a test that dies without Stop leaves
	// nothing behind.
	OutliveParent bool
	// StopTimeout is how long Stop waits after SIGTERM before it kills
	// the group; zero means ten seconds.
	StopTimeout time.Duration
}

// Process is a running service, leader of its own process group.
type Process struct {
	// PID is the leader's pid, and so the process group's id.
	PID int
	// Log is Options.Log.
	Log string

	stopTimeout time.Duration
	exited      chan struct{} // closed once the leader is reaped
	waitErr     error         // the leader's exit, set before exited closes
}

// watchParent runs before the launcher, so before eventlet patches time
// and threading: a real thread that kills the process group once the
// parent (pid in argv[1]; 0 watches nothing) is gone. Names start with an
// underscore because Code runs in the same namespace.
const watchParent = `import os as _os, signal as _signal, sys as _sys, threading as _threading
from time import sleep as _sleep
_parent = int(_sys.argv.pop(1))
def _watch_parent():
    while _os.getppid() == _parent:
        _sleep(0.5)
    _os.killpg(0, _signal.SIGKILL)
if _parent:
    _threading.Thread(target=_watch_parent, daemon=True).start()
`

// runScript runs the launcher whose path is argv[1] as __main__, with the
// arguments after it, as `python3 script args…` would.
const runScript = `import runpy as _runpy
_sys.argv = _sys.argv[1:]
_runpy.run_path(_sys.argv[0], run_name="__main__")
`

// Start runs the service and waits until ReadyURL answers 200. ctx bounds
// start-up only: the service runs until Stop. If the service exits or ctx
// ends first, Start stops what runs and returns an error with the end of
// the log.
func Start(ctx context.Context, o Options) (*Process, error) {
	if (o.Script == "") == (o.Code == "") {
		return nil, fmt.Errorf("%s: exactly one of Script and Code must be set", o.Name)
	}
	logFile, err := os.Create(o.Log)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }() // the child holds its own descriptor

	parent := os.Getpid()
	if o.OutliveParent {
		parent = 0
	}
	code, args := watchParent+o.Code, o.Args
	if o.Script != "" {
		code, args = watchParent+runScript, append([]string{o.Script}, o.Args...)
	}
	// Not CommandContext: the service outlives ctx, which bounds start-up.
	cmd := exec.Command(pydeb.Python, append([]string{"-c", code, strconv.Itoa(parent)}, args...)...)
	cmd.Dir = o.Dir
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own session: terminal signals stay away, and Stop ends the group.
	// No Pdeathsig: it fires when the forking OS thread exits, which Go's
	// threads may do long before the process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s with %s: %w", o.Name, pydeb.Python, err)
	}
	p := &Process{PID: cmd.Process.Pid, Log: o.Log, stopTimeout: o.StopTimeout, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()

	if err := p.waitReady(ctx, o.ReadyURL); err != nil {
		p.Stop()
		var exit *exec.ExitError
		if errors.As(p.waitErr, &exit) && exit.ExitCode() == NotInstalled {
			return nil, fmt.Errorf("%s is not installed: run `make test-deps` (as root)", o.Package)
		}
		return nil, fmt.Errorf("%s: %w; %s:\n%s", o.Name, err, p.Log, p.Tail(20))
	}
	return p, nil
}

// Attach returns a handle on a service that another process started with
// OutliveParent, for Stop and Processes. stopTimeout is as in Options.
func Attach(pid int, stopTimeout time.Duration) *Process {
	exited := make(chan struct{})
	close(exited) // not our child: nothing to reap, Stop watches the group
	return &Process{PID: pid, stopTimeout: stopTimeout, exited: exited}
}

// waitReady polls url until it answers 200, the leader exits, or ctx ends.
func (p *Process) waitReady(ctx context.Context, url string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("exited before answering (%w)", p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("did not answer at %s: %w", url, ctx.Err())
		case <-tick.C:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
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

// Stop ends the process group, SIGTERM first and SIGKILL after the stop
// timeout, and returns once none of it runs and the leader is reaped.
// Calling it twice is harmless.
func (p *Process) Stop() {
	if p.PID <= 0 {
		return
	}
	select {
	case <-p.exited:
		// Gone already: signalling the group again could reach another one
		// that reused the id.
		if len(p.Processes()) == 0 {
			return
		}
	default:
	}
	timeout := p.stopTimeout
	if timeout <= 0 {
		timeout = defaultStopTimeout
	}
	_ = syscall.Kill(-p.PID, syscall.SIGTERM)
	deadline := time.Now().Add(timeout)
	killed := false
	for len(p.Processes()) > 0 {
		if !killed && time.Now().After(deadline) {
			_ = syscall.Kill(-p.PID, syscall.SIGKILL)
			killed = true
		}
		time.Sleep(50 * time.Millisecond)
	}
	<-p.exited
}

// Processes returns the pids of the process group that still run (zombies
// excluded): the leader and any workers it forked. Tests use it to check
// that Stop leaves nothing behind.
func (p *Process) Processes() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	group := strconv.Itoa(p.PID)
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
		if len(f) >= 3 && f[0] != "Z" && f[2] == group {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Tail returns the last lines of the log, for error messages.
func (p *Process) Tail(lines int) string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return err.Error()
	}
	return Tail(string(b), lines)
}

// Tail returns the last lines of s.
func Tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// Prepare readies a service's start: it returns dir made absolute (the
// configuration names files in it) and created, and a loopback port
// nothing listens on now, for the service to bind.
func Prepare(dir string) (absDir, port string, err error) {
	if absDir, err = filepath.Abs(dir); err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(absDir, 0o700); err != nil {
		return "", "", err
	}
	port, err = freePort()
	return absDir, port, err
}

func freePort() (string, error) {
	port, err := proctest.FreePort()
	return strconv.Itoa(port), err
}
