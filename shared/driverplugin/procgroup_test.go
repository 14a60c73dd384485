//go:build linux

package driverplugin_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
)

// TestLaunchFailureWithAChildHoldingThePipes: a plugin that fails to start
// (no handshake, or a bad one) while a child it started keeps its stdout
// or stderr open (a wrapper script's) makes Launch fail, not hang: go-plugin
// waits for the pipes to end before it reaps the plugin, so Kill kills the
// plugin's process group, and the child is gone. mogan-api drivers hung
// forever on such a file in plugin_dir (and ignored SIGTERM meanwhile).
func TestLaunchFailureWithAChildHoldingThePipes(t *testing.T) {
	tests := map[string]string{
		"no handshake, a child holds stdout and stderr": "sleep 600 &\necho $! > PIDFILE\nexec sleep 600\n",
		"a bad handshake, a child holds stderr":         "sleep 600 >/dev/null &\necho $! > PIDFILE\necho not-a-handshake\nexit 1\n",
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "child.pid")
			path := filepath.Join(dir, "mogan-driver-wrapper")
			script := "#!/bin/sh\n" + strings.ReplaceAll(body, "PIDFILE", pidFile)
			if err := os.WriteFile(path, []byte(script), 0o755); err != nil { //nolint:gosec // an executable on purpose
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() {
				p, err := driverplugin.Launch(driverplugin.LaunchConfig{Path: path, StartTimeout: time.Second})
				if err == nil {
					p.Kill()
				}
				errc <- err
			}()
			select {
			case err := <-errc:
				if err == nil {
					t.Fatal("Launch succeeded; want it to fail")
				}
			case <-time.After(2 * time.Minute): // a hang guard, not a timing assertion
				t.Fatal("Launch has not returned after 2 minutes: Kill waits for the child's pipes")
			}
			raw, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatal(err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
			// SIGKILL to the group is sent before Launch returns; on a
			// loaded machine the child may take a moment to die. Ten
			// seconds is a bound for a process that got it, not a timing
			// assertion: one that did not get it runs on.
			for deadline := time.Now().Add(10 * time.Second); alive(pid); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Errorf("the plugin's child %d still runs", pid)
					break
				}
			}
		})
	}
}

// alive reports whether pid runs (a zombie, waiting for whoever adopted
// it to reap it, does not).
func alive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the command's closing paren.
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}
