package pluginmanager

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// A plugin that dies in the middle of a listing fails that call with
// ErrDriverUnavailable, its last stderr lines are logged, and the next
// call runs on a new process.
func TestCrashMidStream(t *testing.T) {
	tests := map[string]struct {
		control string
		killAt  int    // kill -9 the plugin when this many nodes arrived; 0: no
		logged  string // must be in the host's crash log
	}{
		"panic":   {control: `{"count": 1000, "list": "panic", "after": 200, "delay": "200ms"}`, logged: "panic: testdriver: told to panic in ListManageableNodes"},
		"os.Exit": {control: `{"count": 1000, "list": "exit", "after": 200, "delay": "200ms"}`, logged: "driver plugin crashed"},
		"kill -9": {control: `{"count": 1000, "list": "slow", "delay": "5ms"}`, killAt: 3, logged: "driver plugin crashed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, control, logs := setup(t, tc.control, 0)
			oldPid := m.Pid()
			received := 0
			err := m.Driver().ListManageableNodes(t.Context(), driver.ListOptions{}, func(driver.Node) error {
				received++
				if received == tc.killAt {
					kill(t, oldPid)
				}
				return nil
			})
			if !errors.Is(err, ErrDriverUnavailable) {
				t.Fatalf("listing = %v, want ErrDriverUnavailable", err)
			}
			if !strings.Contains(err.Error(), `driver "test"`) {
				t.Errorf("error %q does not name the driver", err)
			}
			// Nodes travel in batches: the rest of the batch in hand still
			// arrives after the kill, never the whole listing.
			if tc.killAt > 0 && (received < tc.killAt || received >= 1000) {
				t.Errorf("%d nodes arrived, the plugin was killed at %d of 1000", received, tc.killAt)
			}

			writeControl(t, control, `{"count": 1000}`)
			nodes := 0
			err = m.Driver().ListManageableNodes(t.Context(), driver.ListOptions{Limit: 10}, func(driver.Node) error {
				nodes++
				return nil
			})
			if err != nil || nodes != 10 {
				t.Fatalf("listing after the crash: %d nodes, %v", nodes, err)
			}
			if newPid := m.Pid(); newPid == oldPid || newPid == 0 {
				t.Errorf("pid after restart = %d, before = %d", newPid, oldPid)
			}
			waitGone(t, oldPid, 10*time.Second)
			m.Stop() // waits for the crash report
			if log := logs.String(); !strings.Contains(log, "[ERROR] host.driver: driver plugin crashed") || !strings.Contains(log, tc.logged) {
				t.Errorf("crash log lacks %q:\n%s", tc.logged, log)
			}
		})
	}
}

// Unary calls in flight when the plugin dies fail; calls after it go to
// the one new process, however many arrive at once.
func TestOneRestartForConcurrentCalls(t *testing.T) {
	m, _, logs := setup(t, `{"get": "slow", "delay": "10s"}`, 0)
	oldPid := m.Pid()
	// go-plugin relays the plugin's log fields from a map, in no fixed
	// order: wait for the message, the one call this test makes.
	reached := logs.seen("call is waiting")
	inFlight := make(chan error)
	go func() {
		_, err := m.Driver().GetManageableNode(t.Context(), "00000000-0000-4000-8000-000000000001")
		inFlight <- err
	}()
	select { // the plugin logs the call once it has it
	case <-reached:
	case err := <-inFlight:
		t.Fatalf("the call ended before the plugin was killed: %v", err)
	}
	kill(t, oldPid)
	if err := <-inFlight; !errors.Is(err, ErrDriverUnavailable) {
		t.Fatalf("call in flight = %v, want ErrDriverUnavailable", err)
	}
	waitGone(t, oldPid, 10*time.Second)

	const callers = 16
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			_, err := m.Driver().Info(t.Context())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("call after the crash: %v", err)
		}
	}
	m.mu.Lock()
	launches := m.launches
	m.mu.Unlock()
	if launches != 2 {
		t.Errorf("%d plugin launches, want 2 (start and one restart)", launches)
	}
	if pid := m.Pid(); pid == oldPid || pid == 0 {
		t.Errorf("pid after restart = %d, before = %d", pid, oldPid)
	}
}

// A plugin that crashes at every start is retried with a growing backoff,
// and calls inside the backoff window fail at once without launching it.
func TestCrashLoopBacksOff(t *testing.T) {
	m, _, _ := setup(t, `{}`, 0)
	crashFile := m.path + ".crash-on-start"
	writeControl(t, crashFile, "")
	pid := m.Pid()
	kill(t, pid)
	waitExited(t, m, pid)

	var lastFailures int
	for attempt := range 3 {
		// Wait out the previous backoff, then the restart is tried and fails.
		err := callUntilNotBackoff(t, m)
		if !errors.Is(err, ErrDriverUnavailable) || !strings.Contains(err.Error(), "told to crash on start") {
			t.Fatalf("attempt %d: call = %v, want ErrDriverUnavailable naming the start failure", attempt, err)
		}
		m.mu.Lock()
		launches := m.launches
		m.mu.Unlock()

		// Inside the window: a BackoffError, many times, without a launch.
		for range 5 {
			_, err = m.Driver().Info(t.Context())
			var be *BackoffError
			if !errors.As(err, &be) || !errors.Is(err, ErrDriverUnavailable) {
				t.Fatalf("attempt %d: call in backoff window = %v, want *BackoffError", attempt, err)
			}
			if be.Failures <= lastFailures {
				t.Errorf("attempt %d: failures = %d, not above %d", attempt, be.Failures, lastFailures)
			}
			if limit := m.policy.delay(be.Failures); be.Wait <= 0 || be.Wait > limit {
				t.Errorf("attempt %d: RetryAfter %s not in (0, %s]", attempt, be.Wait, limit)
			}
		}
		m.mu.Lock()
		if m.launches != launches {
			t.Errorf("attempt %d: calls in the backoff window launched the plugin", attempt)
		}
		lastFailures = m.failures
		m.mu.Unlock()
	}

	if err := os.Remove(crashFile); err != nil {
		t.Fatal(err)
	}
	if err := callUntilNotBackoff(t, m); err != nil {
		t.Fatalf("call once the plugin starts again: %v", err)
	}
}

// waitExited waits until the manager's plugin process is seen to have
// exited, so that the next call restarts it rather than failing on it.
func waitExited(t *testing.T, m *Manager, pid int) {
	t.Helper()
	waitGone(t, pid, 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		m.mu.Lock()
		inst := m.cur
		m.mu.Unlock()
		if inst == nil || inst.plugin.Exited() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin %d gone but not seen as exited", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// callUntilNotBackoff calls GetInfo until the answer is not a BackoffError.
func callUntilNotBackoff(t *testing.T, m *Manager) error {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := m.Driver().Info(t.Context())
		var be *BackoffError
		if !errors.As(err, &be) {
			return err
		}
		if time.Now().After(deadline) {
			t.Fatalf("still backing off after a minute: %v", err)
		}
		time.Sleep(be.Wait)
	}
}

// Every error mode of the test driver reaches the caller as the same typed
// error, and none of them restarts the plugin.
func TestDriverErrorsPassThrough(t *testing.T) {
	m, control, _ := setup(t, `{}`, 0)
	pid := m.Pid()
	tests := map[string]struct {
		mode string
		kind error
	}{
		"not found":      {mode: "not_found", kind: driver.ErrNodeNotFound},
		"not manageable": {mode: "not_manageable", kind: driver.ErrNotManageable},
		"conflict":       {mode: "conflict", kind: driver.ErrConflict},
		"unavailable":    {mode: "unavailable", kind: driver.ErrUnavailable},
		"invalid":        {mode: "invalid", kind: driver.ErrInvalidArgument},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			writeControl(t, control, fmt.Sprintf(`{"manage": %q, "reason": "in maintenance"}`, tc.mode))
			_, err := m.Driver().Manage(t.Context(), driver.ManageRequest{NodeUUID: "00000000-0000-4000-8000-000000000001", ServerUUID: "s"})
			if !errors.Is(err, tc.kind) {
				t.Errorf("Manage = %v, want %v", err, tc.kind)
			}
			if errors.Is(err, ErrDriverUnavailable) {
				t.Errorf("a driver's own error %v became ErrDriverUnavailable", err)
			}
		})
	}
	if got := m.Pid(); got != pid {
		t.Errorf("pid changed from %d to %d on driver errors", pid, got)
	}
}
