package main

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

	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// host is a running mogan-api with two Ironic backends, a and b.
type host struct {
	url string
	// pid is mogan-api's; plugins its two plugin processes'.
	pid     int
	plugins []int
	cmd     *exec.Cmd
	done    chan struct{}
}

// startHost writes the configuration of a mogan-api whose backends are
// the Ironics at aURL (a) and bURL (b), with the Neutron at neutronURL,
// on SQLite in dir, the reconciler off (it would read every node in the
// background); starts it in its own process group (killed with us) and
// waits until it answers and has started both plugins.
func startHost(ctx context.Context, bin, dir, aURL, bURL, neutronURL string) (*host, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	port, err := proctest.FreePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "mogan.conf")
	text := fmt.Sprintf(`[DEFAULT]
auth_strategy = noauth
state_path = %[1]s
host = bench
enabled_backends = a, b

[api]
host_ip = 127.0.0.1
port = %[2]d

[database]
connection = sqlite://%[1]s/mogan.sqlite

[driver]
plugin_dir = %[3]s
call_timeout = 120

[a]
driver = ironic
url = %[4]s
auth_type = none

[b]
driver = ironic
url = %[5]s
auth_type = none

[neutron]
url = %[6]s
auth_type = none

[manage]
reconcile_interval = 0
`, dir, port, bin, aURL, bURL, neutronURL)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "mogan-api.log"))
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }()
	h := &host{url: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{})}
	h.cmd = exec.Command(filepath.Join(bin, "mogan-api"), "--config-file", conf)
	h.cmd.Stdout, h.cmd.Stderr = logFile, logFile
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := h.cmd.Start(); err != nil {
		return nil, err
	}
	h.pid = h.cmd.Process.Pid
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	hc := &http.Client{Timeout: 5 * time.Second}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-h.done:
			return nil, fmt.Errorf("mogan-api exited at start-up; see %s", logFile.Name())
		case <-ctx.Done():
			_ = h.stop()
			return nil, ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			_ = h.stop()
			return nil, fmt.Errorf("mogan-api did not start with two plugins in 60 s; see %s", logFile.Name())
		}
		if kids := children(h.pid); len(kids) == 2 && ready(hc, h.url) {
			h.plugins = kids
			return h, nil
		}
	}
}

// ready reports whether the host answers /healthz.
func ready(hc *http.Client, url string) bool {
	resp, err := hc.Get(url + "/healthz")
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop sends SIGTERM, waits, and kills the process group whatever is left,
// and each plugin's (a plugin leads a group of its own).
func (h *host) stop() error {
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case <-h.done:
	case <-time.After(30 * time.Second):
		err = errors.New("mogan-api did not exit within 30 s of SIGTERM; killed")
	}
	_ = syscall.Kill(-h.pid, syscall.SIGKILL)
	<-h.done
	for _, pid := range h.plugins {
		// Only a plugin that outlived its host, still leading its group.
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if g, err := syscall.Getpgid(pid); err == nil && g == pid && strings.Contains(string(cmdline), "mogan-driver-ironic") {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
	return err
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var pids []int
	for _, path := range tasks {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if p, err := strconv.Atoi(f); err == nil {
				pids = append(pids, p)
			}
		}
	}
	return pids
}
