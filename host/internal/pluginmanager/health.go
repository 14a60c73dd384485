package pluginmanager

import (
	"context"
	"errors"
	"fmt"

	"github.com/mogan-manage/mogan-manage/host/internal/health"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// CheckPlugin reports whether the plugin answers (GetInfo), for /readyz.
// A dead plugin is restarted first, as for any call; during a restart
// backoff it is down at once.
func (m *Manager) CheckPlugin(ctx context.Context) error {
	_, err := m.Driver().Info(ctx)
	return err
}

// CheckBackend reports whether the driver's own backend (Ironic) answers,
// for /readyz: nil, the driver's error naming it, or health.ErrUnknown
// when it cannot tell (a driver without CheckBackend, or the plugin is
// down: CheckPlugin says so).
func (m *Manager) CheckBackend(ctx context.Context) error {
	err := m.call(ctx, "CheckBackend", func(ctx context.Context, d driver.Full) error {
		c, ok := d.(driver.BackendChecker)
		if !ok {
			return driver.NotImplemented("checking the backend")
		}
		_, err := c.CheckBackend(ctx)
		return err
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, driver.ErrNotImplemented):
		return fmt.Errorf("%w: %s cannot check its backend (no CheckBackend)", health.ErrUnknown, m.who())
	case errors.Is(err, ErrDriverUnavailable):
		return fmt.Errorf("%w: the driver plugin is down", health.ErrUnknown)
	}
	return err
}
