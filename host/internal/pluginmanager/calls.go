package pluginmanager

import (
	"context"
	"errors"
	"fmt"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
)

// supervised is the driver.Full the API calls: each method picks the
// running plugin (restarting it if needed), bounds the call and turns a
// dead plugin into ErrDriverUnavailable.
type supervised struct{ m *Manager }

var _ driver.Full = supervised{}

// call runs one unary driver call under the call timeout.
func (m *Manager) call(ctx context.Context, op string, fn func(context.Context, driver.Full) error) error {
	// Waiting for a restart counts against the call's time too.
	te := &timeoutError{msg: fmt.Sprintf("driver %q: %s got no answer within %s", m.cfg.Name, op, m.timeout)}
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
	err = m.outcome(ctx, inst, op, fn(ctx, inst.plugin.Driver()))
	if ours && errors.Is(err, context.DeadlineExceeded) {
		return te
	}
	return err
}

// timeoutError is the cause of a call cut short by the manager's own
// deadline: it names the driver and the timeout, and is a
// context.DeadlineExceeded (HTTP 504).
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string { return e.msg + ": " + context.DeadlineExceeded.Error() }
func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// outcome classifies a call's error: a dead plugin is retired and reported
// as ErrDriverUnavailable, a call our deadline cut short says so; the
// driver's own errors pass through unchanged.
func (m *Manager) outcome(ctx context.Context, inst *instance, op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, driverplugin.ErrPluginGone) {
		m.mu.Lock()
		m.retireLocked(inst, err)
		m.mu.Unlock()
		return fmt.Errorf("driver %q: %w: %s: %w", m.cfg.Name, ErrDriverUnavailable, op, err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// The caller's own deadline or cancellation stays as it is; ours
		// names the driver and the timeout.
		var te *timeoutError
		if errors.As(context.Cause(ctx), &te) {
			return te
		}
	}
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
