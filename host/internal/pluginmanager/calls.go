package pluginmanager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
)

// supervised is the driver.Full the API calls: each method picks the
// running plugin (restarting it if needed), bounds the call and turns a
// dead plugin into ErrDriverUnavailable.
type supervised struct{ m *Manager }

var _ driver.Full = supervised{}

// call runs one unary driver call under the call timeout.
func (m *Manager) call(ctx context.Context, op string, fn func(context.Context, driver.Full) error) (err error) {
	start := time.Now()
	defer func() { m.cfg.Metrics.DriverCall(m.backendLabel(), op, err, time.Since(start)) }()
	// Waiting for a restart counts against the call's time too.
	te := &timeoutError{msg: fmt.Sprintf("%s: %s got no answer within %s", m.who(), op, m.timeout)}
	callerDeadline, callerHasDeadline := ctx.Deadline()
	ctx, cancel := context.WithTimeoutCause(ctx, m.timeout, te)
	defer cancel()
	deadline, _ := ctx.Deadline()
	// gRPC enforces the deadline with its own timer, which may fire before
	// ctx's: whose deadline it was is decided by the deadlines themselves.
	ours := !callerHasDeadline || callerDeadline.After(deadline)
	inst, err := m.acquire(ctx)
	if err != nil {
		return err
	}
	err = fn(ctx, inst.plugin.Driver())
	var missed *timeoutError
	if ours && errors.Is(err, context.DeadlineExceeded) {
		missed = te
	}
	return m.outcome(ctx, inst, op, err, missed)
}

// timeoutError is the cause of a call cut short by the manager's own
// deadline: it names the driver and the timeout, and is a
// context.DeadlineExceeded (HTTP 504).
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string { return e.msg + ": " + context.DeadlineExceeded.Error() }
func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// outcome classifies a call's error. missed is set when the call ran past
// the manager's own deadline. Only a plugin that is gone (its process
// exited, its connection broke) or hung (it does not answer a ping) is
// retired, and only check decides that: a failure of gRPC alone may be the
// host's own request that could not be sent, and a missed deadline may be
// a slow backend behind a healthy plugin. The driver's own errors pass
// through unchanged.
func (m *Manager) outcome(ctx context.Context, inst *instance, op string, err error, missed *timeoutError) error {
	switch {
	case err == nil:
		return nil
	case missed != nil:
		if gone := m.check(ctx, inst, op, err); gone != nil {
			return &timeoutError{msg: missed.msg + "; " + gone.Error() + ", so it was killed and the next call restarts it"}
		}
		return missed
	case errors.Is(err, driverplugin.ErrCallFailed):
		if gone := m.check(ctx, inst, op, err); gone != nil {
			return fmt.Errorf("%s: %w: %s: %w", m.who(), ErrDriverUnavailable, op, gone)
		}
		if driverplugin.IsConnectionFailure(err) {
			// A passing failure of a connection the plugin still answers on.
			return fmt.Errorf("%s: %w: %s: %w", m.who(), ErrDriverUnavailable, op, err)
		}
		// The request never made it, and the plugin is fine: the host's
		// own fault (HTTP 500), which must not cost the plugin its life.
		return fmt.Errorf("%s: %s: %w (the plugin is alive and was left running)", m.who(), op, err)
	}
	return err
}

// check looks at a plugin after a call failed in gRPC or missed its
// deadline. A plugin that exited, lost its connection or does not answer a
// ping within the ping timeout is retired (killed; the next call restarts
// it) and check says why; a live one is left alone and check returns nil.
// Concurrent checks of one plugin run one at a time: the first to find it
// gone retires it, the others see that at once.
func (m *Manager) check(ctx context.Context, inst *instance, op string, cause error) error {
	inst.checkMu.Lock()
	defer inst.checkMu.Unlock()
	m.mu.Lock()
	retired, gone := inst.retired, inst.gone
	m.mu.Unlock()
	if retired {
		if gone == nil {
			gone = fmt.Errorf("%w: the plugin was stopped", driverplugin.ErrPluginGone)
		}
		return gone
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.pingTimeout)
	defer cancel()
	start := time.Now()
	err := inst.plugin.Check(pctx)
	if err == nil {
		m.log.Warn("driver call failed, but the plugin answers a ping: left running",
			"op", op, "error", cause, "pid", inst.plugin.Pid(), "ping", time.Since(start).Round(time.Microsecond))
		return nil
	}
	m.mu.Lock()
	m.retireLocked(inst, err)
	m.mu.Unlock()
	return err
}

func (s supervised) Info(ctx context.Context) (driver.Info, error) {
	var info driver.Info
	err := s.m.call(ctx, "GetInfo", func(ctx context.Context, d driver.Full) error {
		var err error
		info, err = d.Info(ctx)
		return err
	})
	return info, err
}

// Configure reconfigures the running plugin only: a restarted plugin is
// configured with Config.Options again.
func (s supervised) Configure(ctx context.Context, options map[string]string) error {
	return s.m.call(ctx, "Configure", func(ctx context.Context, d driver.Full) error {
		return d.Configure(ctx, options)
	})
}

func (s supervised) GetManageableNode(ctx context.Context, nodeUUID string) (driver.Node, error) {
	var n driver.Node
	err := s.m.call(ctx, "GetManageableNode", func(ctx context.Context, d driver.Full) error {
		var err error
		n, err = d.GetManageableNode(ctx, nodeUUID)
		return err
	})
	return n, err
}

func (s supervised) Manage(ctx context.Context, req driver.ManageRequest) (driver.Node, error) {
	var n driver.Node
	err := s.m.call(ctx, "Manage", func(ctx context.Context, d driver.Full) error {
		var err error
		n, err = d.Manage(ctx, req)
		return err
	})
	return n, err
}

func (s supervised) Unmanage(ctx context.Context, req driver.ManageRequest) error {
	return s.m.call(ctx, "Unmanage", func(ctx context.Context, d driver.Full) error {
		return d.Unmanage(ctx, req)
	})
}

func (s supervised) ListManageableNodes(ctx context.Context, opts driver.ListOptions, send func(driver.Node) error) error {
	return s.m.stream(ctx, opts, send)
}

func (s supervised) GetNodeStates(ctx context.Context, nodeUUIDs []string) ([]driver.NodeState, error) {
	var states []driver.NodeState
	err := s.m.call(ctx, "GetNodeStates", func(ctx context.Context, d driver.Full) error {
		var err error
		states, err = d.GetNodeStates(ctx, nodeUUIDs)
		return err
	})
	return states, err
}
