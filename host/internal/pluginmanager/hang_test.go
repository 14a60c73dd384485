package pluginmanager

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// shortTimeout is the call timeout of the hang tests.
const shortTimeout = 300 * time.Millisecond

// A hung call ends with DeadlineExceeded at the call timeout, while other
// calls to the same plugin are answered meanwhile and afterwards.
func TestHungCallTimesOut(t *testing.T) {
	m, _, _ := setup(t, `{"count": 50, "get": "hang"}`, shortTimeout)
	pid := m.Pid()
	var wg sync.WaitGroup
	hung := make(chan error, 1)
	wg.Go(func() {
		_, err := m.Driver().GetManageableNode(t.Context(), "00000000-0000-4000-8000-000000000001")
		hung <- err
	})
	// Meanwhile, listings and infos are served.
	for range 4 {
		wg.Go(func() {
			if _, err := m.Driver().Info(t.Context()); err != nil {
				t.Errorf("Info during a hung call: %v", err)
			}
			if n, err := count(t.Context(), m, driver.ListOptions{}); err != nil || n != 45 {
				t.Errorf("listing during a hung call: %d nodes, %v", n, err)
			}
		})
	}
	wg.Wait()
	err := <-hung
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung call = %v, want context.DeadlineExceeded", err)
	}
	if errors.Is(err, ErrDriverUnavailable) {
		t.Errorf("a hung call %v reported the driver unavailable", err)
	}
	if !strings.Contains(err.Error(), `driver "test"`) || !strings.Contains(err.Error(), "300ms") {
		t.Errorf("error %q does not name the driver and the timeout", err)
	}
	if got := m.Pid(); got != pid {
		t.Errorf("a hung call restarted the plugin: pid %d -> %d", pid, got)
	}
}

// A listing is cut off when the driver goes silent, not when it is long.
func TestListingIdleTimeout(t *testing.T) {
	tests := map[string]struct {
		control string
		want    int  // nodes received
		timeout bool // ends with DeadlineExceeded
	}{
		// 30 nodes x 50ms = 1.5s, longer than the 1s timeout, never
		// silent for more than a tenth of it.
		"slow but progressing": {control: `{"count": 30, "list": "slow", "delay": "50ms"}`, want: 27},
		"silent after 5 nodes": {control: `{"count": 30, "list": "hang", "after": 5}`, want: 5, timeout: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, _, _ := setup(t, tc.control, time.Second)
			n, err := count(t.Context(), m, driver.ListOptions{})
			if tc.timeout != errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("listing = %v, want DeadlineExceeded: %v", err, tc.timeout)
			}
			if !tc.timeout && err != nil {
				t.Errorf("listing = %v", err)
			}
			if n != tc.want {
				t.Errorf("%d nodes received, want %d", n, tc.want)
			}
		})
	}
}

// A slow consumer is not the driver's silence.
func TestSlowConsumerIsNotIdle(t *testing.T) {
	m, _, _ := setup(t, `{"count": 4}`, shortTimeout)
	n := 0
	err := m.Driver().ListManageableNodes(t.Context(), driver.ListOptions{}, func(driver.Node) error {
		n++
		time.Sleep(shortTimeout) // the HTTP client reads slowly
		return nil
	})
	if err != nil || n != 4 {
		t.Errorf("listing with a slow consumer: %d nodes, %v", n, err)
	}
}

// The caller's own cancellation stays context.Canceled.
func TestCallerCancels(t *testing.T) {
	m, _, _ := setup(t, `{"count": 1000}`, 0)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := m.Driver().ListManageableNodes(ctx, driver.ListOptions{}, func(driver.Node) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrDriverUnavailable) {
		t.Errorf("cancelled listing = %v, want context.Canceled", err)
	}
	if _, err := m.Driver().Info(t.Context()); err != nil {
		t.Errorf("Info after a cancelled listing: %v", err)
	}
}

// count streams a listing through the manager and counts the nodes.
func count(ctx context.Context, m *Manager, opts driver.ListOptions) (int, error) {
	n := 0
	err := m.Driver().ListManageableNodes(ctx, opts, func(driver.Node) error {
		n++
		return nil
	})
	return n, err
}
