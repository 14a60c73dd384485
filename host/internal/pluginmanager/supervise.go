package pluginmanager

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// backoffPolicy spaces out the restarts of a plugin that keeps crashing:
// the first restart is immediate, the next ones wait first, then twice as
// long each time up to max; a plugin that ran healthyAfter before crashing
// starts the count again.
type backoffPolicy struct {
	first, max, healthyAfter time.Duration
}

var defaultBackoff = backoffPolicy{
	first:        250 * time.Millisecond,
	max:          30 * time.Second,
	healthyAfter: time.Minute,
}

// delay is the wait before the restart that follows the n-th consecutive
// failure.
func (p backoffPolicy) delay(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	d := p.first
	for i := 2; i < n && d < p.max; i++ {
		d *= 2
	}
	return min(d, p.max)
}

// errExited is the cause recorded when a plugin is found dead between calls.
var errExited = errors.New("the plugin process exited")

// acquire returns the running plugin, restarting it if it died. It never
// waits out a backoff: inside the window it fails at once with a
// BackoffError. It waits for a restart under way only as long as ctx lets
// it.
func (m *Manager) acquire(ctx context.Context) (*instance, error) {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return nil, fmt.Errorf("%s: %w: the host is shutting down", m.who(), ErrDriverUnavailable)
	}
	if inst := m.cur; inst != nil {
		if !inst.plugin.Exited() {
			m.mu.Unlock()
			return inst, nil
		}
		m.retireLocked(inst, errExited)
	}
	if m.starting == nil {
		if wait := time.Until(m.notBefore); wait > 0 {
			err := &BackoffError{Driver: m.cfg.Name, Backend: m.cfg.Backend, Wait: wait, Failures: m.failures, Last: m.lastErr}
			m.mu.Unlock()
			return nil, err
		}
		m.starting = make(chan struct{})
		m.bg.Add(1)
		// The restart outlives this call if it must: the next call uses it.
		go m.restart(context.WithoutCancel(ctx), m.starting)
	}
	done := m.starting
	m.mu.Unlock()

	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w: still restarting when the call ended (%s)", m.who(), ErrDriverUnavailable, ctx.Err().Error())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur != nil && !m.cur.retired {
		return m.cur, nil
	}
	return nil, fmt.Errorf("%w: restart failed: %w", ErrDriverUnavailable, m.lastErr)
}

// restart launches a new plugin in place of a dead one, then closes done.
func (m *Manager) restart(ctx context.Context, done chan struct{}) {
	defer m.bg.Done()
	defer close(done)
	inst, err := m.launch(ctx)
	m.cfg.Metrics.PluginRestart(m.backendLabel(), err)

	m.mu.Lock()
	m.starting = nil
	stopped := m.stopped
	var delay time.Duration
	switch {
	case err != nil:
		delay = m.failedLocked(time.Time{}, err)
	case !stopped:
		m.install(inst)
	}
	m.mu.Unlock()

	switch {
	case err != nil:
		m.log.Error("restarting driver plugin failed", "error", err, "next_restart_in", delay)
	case stopped:
		inst.plugin.Kill()
	default:
		m.log.Info("driver plugin restarted", "pid", inst.plugin.Pid())
	}
}

// retireLocked takes a dead or hung plugin out of service, once, and
// reaps it in the background. m.mu must be held.
func (m *Manager) retireLocked(inst *instance, cause error) {
	if inst.retired {
		return
	}
	inst.retired = true
	inst.gone = cause
	if m.cur == inst {
		m.cur = nil
	}
	delay := m.failedLocked(inst.started, cause)
	m.bg.Add(1)
	go m.reap(inst, cause, delay)
}

// failedLocked counts a crash or failed start and sets the backoff window.
// up is when the failed plugin started, zero if it never did. m.mu must be
// held.
func (m *Manager) failedLocked(up time.Time, cause error) time.Duration {
	now := time.Now()
	if !up.IsZero() && now.Sub(up) >= m.policy.healthyAfter {
		m.failures = 0
	}
	m.failures++
	delay := m.policy.delay(m.failures)
	m.notBefore = now.Add(delay)
	m.lastErr = cause
	return delay
}

// reap makes sure a dead or hung plugin is gone, then logs its last words.
func (m *Manager) reap(inst *instance, cause error, delay time.Duration) {
	defer m.bg.Done()
	// Abort returns once the process is gone and its stderr drained; a
	// hung plugin gets no graceful shutdown it could not answer.
	inst.plugin.Abort()
	m.log.Error("driver plugin crashed (exited, lost its connection or hung); the next call restarts it",
		"pid", inst.plugin.Pid(),
		"error", cause,
		"restart_after", delay,
		"stderr", strings.Join(inst.tail.Lines(), "\n"))
}
