package pluginmanager

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// stream runs a listing under an idle timeout rather than a total one: a
// long listing that keeps sending nodes runs to its end, a driver that goes
// silent for the call timeout is cut off with context.DeadlineExceeded.
// Time spent in send (the API writing to a slow client) is not the driver's
// silence and does not count.
func (m *Manager) stream(ctx context.Context, opts driver.ListOptions, send func(driver.Node) error) (err error) {
	start := time.Now()
	defer func() { m.cfg.Metrics.DriverCall(m.backendLabel(), "ListManageableNodes", err, time.Since(start)) }()
	actx, acancel := context.WithTimeout(ctx, m.timeout)
	inst, err := m.acquire(actx)
	acancel()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := newWatchdog(m.timeout, func() {
		cancel(&timeoutError{msg: fmt.Sprintf("%s: ListManageableNodes sent nothing for %s", m.who(), m.timeout)})
	})
	defer w.stop()
	err = inst.plugin.Driver().ListManageableNodes(ctx, opts, func(n driver.Node) error {
		w.busy()
		defer w.idle()
		return send(n)
	})
	// The watchdog's cancellation ends the call with context.Canceled (or
	// gRPC's word for it); its cause says it was ours.
	var missed *timeoutError
	if err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		errors.As(context.Cause(ctx), &missed)
	}
	return m.outcome(ctx, inst, "ListManageableNodes", err, missed)
}

// watchdog calls expire once nothing happened for timeout. It keeps the
// time of the last activity in an atomic so that marking progress, done
// once per node, costs no timer reset.
type watchdog struct {
	timeout time.Duration
	start   time.Time
	last    atomic.Int64 // nanoseconds since start of the latest activity
	sending atomic.Bool

	mu    sync.Mutex // guards timer, which the callback re-arms
	timer *time.Timer
}

func newWatchdog(timeout time.Duration, expire func()) *watchdog {
	w := &watchdog{timeout: timeout, start: time.Now()}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = time.AfterFunc(timeout, func() {
		if next := w.remaining(); next > 0 {
			w.mu.Lock()
			w.timer.Reset(next)
			w.mu.Unlock()
			return
		}
		expire()
	})
	return w
}

// remaining is how long until the silence reaches the timeout, 0 once it
// has.
func (w *watchdog) remaining() time.Duration {
	if w.sending.Load() {
		return w.timeout
	}
	silent := time.Since(w.start) - time.Duration(w.last.Load())
	return max(w.timeout-silent, 0)
}

// busy marks the start of a send: the driver has just delivered a node.
func (w *watchdog) busy() {
	w.sending.Store(true)
	w.last.Store(int64(time.Since(w.start)))
}

// idle marks the end of a send: the driver's silence counts from now.
func (w *watchdog) idle() {
	w.last.Store(int64(time.Since(w.start)))
	w.sending.Store(false)
}

func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer.Stop()
}
