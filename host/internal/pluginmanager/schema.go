package pluginmanager

import (
	"context"
	"errors"
	"fmt"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// checkOptions checks the driver's section against the options the driver
// describes (GetConfigSchema), before Configure sees it: an unknown option,
// a value of the wrong type or a missing required option is refused naming
// it, and a secret's value is never quoted. A driver that does not describe
// its options (Unimplemented) leaves its section opaque: only its own
// Configure judges it.
func (m *Manager) checkOptions(ctx context.Context, d driver.Full) error {
	describer, ok := d.(driver.ConfigDescriber)
	if !ok {
		return nil
	}
	schema, err := describer.ConfigSchema(ctx)
	if errors.Is(err, driver.ErrNotImplemented) {
		m.log.Debug("the driver does not describe its options: its section is handed to it unchecked")
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: GetConfigSchema: %w", m.who(), err)
	}
	if err := driver.CheckOptions(schema, m.cfg.Options); err != nil {
		return fmt.Errorf("%s: the [%s] section: %w", m.who(), m.backendLabel(), err)
	}
	return nil
}
