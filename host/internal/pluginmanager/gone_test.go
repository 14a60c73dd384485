package pluginmanager

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// stop sends SIGSTOP to pid and waits until the process is stopped: the
// signal is delivered asynchronously, and a process still running on
// another core may answer a call or two first.
func stop(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatal(err)
		}
		// The state follows the command name, which is in parentheses.
		if f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:])); len(f) > 0 && f[0] == "T" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d not stopped 5 s after SIGSTOP", pid)
		}
	}
}

// launchCount is how many plugin processes m launched so far.
func launchCount(m *Manager) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.launches
}

// A request the host cannot even marshal (a string that is not UTF-8) fails
// in gRPC before it leaves the host. That is the host's fault, not the
// plugin's: the plugin keeps running, nothing is restarted and no backoff
// starts, however many such calls come.
func TestBadRequestLeavesPluginRunning(t *testing.T) {
	m, _, _ := setup(t, `{"count": 20}`, 0)
	pid := m.Pid()
	const bad = "\xff"
	calls := map[string]func(ctx context.Context) error{
		"ListManageableNodes resource_class": func(ctx context.Context) error {
			_, err := count(ctx, m, driver.ListOptions{ResourceClass: bad})
			return err
		},
		"ListManageableNodes marker": func(ctx context.Context) error {
			_, err := count(ctx, m, driver.ListOptions{Marker: bad})
			return err
		},
		"GetManageableNode": func(ctx context.Context) error {
			_, err := m.Driver().GetManageableNode(ctx, bad)
			return err
		},
		"Manage": func(ctx context.Context) error {
			_, err := m.Driver().Manage(ctx, driver.ManageRequest{NodeUUID: bad, ServerUUID: bad})
			return err
		},
		"Unmanage": func(ctx context.Context) error {
			return m.Driver().Unmanage(ctx, driver.ManageRequest{NodeUUID: bad})
		},
		"GetNodeStates": func(ctx context.Context) error {
			_, err := m.Driver().GetNodeStates(ctx, []string{bad})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			for i := range 30 {
				err := call(t.Context())
				if !errors.Is(err, driverplugin.ErrCallFailed) {
					t.Fatalf("call %d = %v, want ErrCallFailed", i, err)
				}
				if errors.Is(err, ErrDriverUnavailable) || errors.Is(err, driverplugin.ErrPluginGone) {
					t.Fatalf("call %d = %v: the host's own bad request took the plugin for gone", i, err)
				}
				if !strings.Contains(err.Error(), "left running") {
					t.Errorf("error %q does not say the plugin was left running", err)
				}
			}
		})
	}
	if got := m.Pid(); got != pid {
		t.Errorf("plugin pid %d -> %d after bad requests", pid, got)
	}
	if n := launchCount(m); n != 1 {
		t.Errorf("%d launches, want 1", n)
	}
	if n, err := count(t.Context(), m, driver.ListOptions{}); err != nil || n != 18 {
		t.Errorf("listing after the bad requests: %d nodes, %v", n, err)
	}
}

// A plugin whose driver is slow (its backend is slow, or the call hangs in
// the driver) still answers the supervisor's ping: the call times out,
// the plugin keeps running.
func TestSlowPluginIsNotRestarted(t *testing.T) {
	tests := map[string]struct {
		control string
		call    func(context.Context, *Manager) error
	}{
		"get hangs": {`{"get": "hang"}`, func(ctx context.Context, m *Manager) error {
			_, err := m.Driver().GetManageableNode(ctx, "00000000-0000-4000-8000-000000000001")
			return err
		}},
		"manage slow": {`{"manage": "slow", "delay": "5s"}`, func(ctx context.Context, m *Manager) error {
			_, err := m.Driver().Manage(ctx, driver.ManageRequest{
				NodeUUID: "00000000-0000-4000-8000-000000000001", ServerUUID: "10000000-0000-4000-8000-000000000001",
			})
			return err
		}},
		"listing silent": {`{"count": 30, "list": "hang", "after": 5}`, func(ctx context.Context, m *Manager) error {
			_, err := count(ctx, m, driver.ListOptions{})
			return err
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, _, logs := setup(t, tc.control, shortTimeout)
			pid := m.Pid()
			start := time.Now()
			err := tc.call(t.Context(), m)
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrDriverUnavailable) {
				t.Fatalf("slow call = %v, want DeadlineExceeded", err)
			}
			if strings.Contains(err.Error(), "hung") {
				t.Errorf("slow call %q says the plugin hung", err)
			}
			// The ping of a live plugin takes milliseconds.
			if took > shortTimeout+time.Second {
				t.Errorf("slow call took %s with a %s timeout", took, shortTimeout)
			}
			if _, err := m.Driver().Info(t.Context()); err != nil {
				t.Errorf("Info after the slow call: %v", err)
			}
			if got := m.Pid(); got != pid || !proctest.Alive(pid) {
				t.Errorf("a slow call restarted the plugin: pid %d -> %d", pid, got)
			}
			if n := launchCount(m); n != 1 {
				t.Errorf("%d launches, want 1", n)
			}
			if !strings.Contains(logs.String(), "answers a ping: left running") {
				t.Errorf("the host did not log that it pinged the plugin and left it running")
			}
		})
	}
}

// A plugin that does not answer at all (SIGSTOP: the process exists but
// nothing in it runs) is hung: the call that misses its deadline pings it,
// gets no answer, and the plugin is killed; calls in flight meanwhile end
// in 504 or 503; the next call restarts it and works.
func TestStoppedPluginIsRestarted(t *testing.T) {
	tests := map[string]func(context.Context, *Manager) error{
		"unary": func(ctx context.Context, m *Manager) error {
			_, err := m.Driver().GetManageableNode(ctx, "00000000-0000-4000-8000-000000000001")
			return err
		},
		"listing": func(ctx context.Context, m *Manager) error {
			_, err := count(ctx, m, driver.ListOptions{})
			return err
		},
	}
	for name, call := range tests {
		t.Run(name, func(t *testing.T) {
			m, _, logs := setup(t, `{"count": 20}`, shortTimeout)
			pid := m.Pid()
			stop(t, pid)
			// Killed below by the supervisor; if it is not, do not leave a
			// stopped process behind.
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })

			const inFlight = 4
			var wg sync.WaitGroup
			errs := make(chan error, inFlight)
			start := time.Now()
			for range inFlight {
				wg.Go(func() { errs <- call(t.Context(), m) })
			}
			wg.Wait()
			took := time.Since(start)
			close(errs)
			hung := 0
			for err := range errs {
				switch {
				case errors.Is(err, context.DeadlineExceeded) && strings.Contains(err.Error(), "hung"):
					hung++
				case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrDriverUnavailable):
				default:
					t.Errorf("call to a stopped plugin = %v, want 504 (DeadlineExceeded) or 503 (ErrDriverUnavailable)", err)
				}
			}
			if hung == 0 {
				t.Error("no call said the plugin hung")
			}
			t.Logf("calls to a stopped plugin ended within %s (call timeout %s, ping timeout %s)", took, shortTimeout, m.pingTimeout)
			if limit := shortTimeout + m.pingTimeout + 2*time.Second; took > limit {
				t.Errorf("calls to a stopped plugin took %s, more than %s", took, limit)
			}
			waitGone(t, pid, 10*time.Second)

			// The restart counts against the next call's deadline; under
			// -race on a busy machine a launch alone can take longer than
			// shortTimeout, so that call gets room (nothing is in flight).
			m.timeout = 30 * time.Second
			if err := call(t.Context(), m); err != nil {
				t.Fatalf("call after the restart: %v", err)
			}
			if got := m.Pid(); got == pid || got == 0 {
				t.Errorf("pid after the restart = %d, before %d", got, pid)
			}
			if n := launchCount(m); n != 2 {
				t.Errorf("%d launches, want 2 (start and one restart)", n)
			}
			m.Stop() // waits for the report
			if !strings.Contains(logs.String(), "does not answer a ping (hung)") {
				t.Errorf("the host log does not say the plugin hung")
			}
		})
	}
}

// Stop does not wait forever for a stopped plugin to answer go-plugin's
// request to shut down.
func TestStopKillsStoppedPlugin(t *testing.T) {
	m, _, _ := setup(t, `{}`, 0)
	pid := m.Pid()
	stop(t, pid)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	start := time.Now()
	m.Stop()
	t.Logf("Stop of a stopped plugin took %s", time.Since(start))
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Stop took %s on a stopped plugin", took)
	}
	if proctest.Alive(pid) {
		t.Errorf("stopped plugin %d still there after Stop", pid)
	}
}
