// Package noopdriver is a driver with no capabilities: it implements only
// driver.Driver, so the SDK answers Unimplemented for discovery and
// adoption.
package noopdriver

import (
	"context"
	"sort"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// Name and Version identify the driver.
const (
	Name    = "noop"
	Version = "1.0.0"
)

// Driver is the noop driver.
type Driver struct {
	log hclog.Logger
}

// New returns the noop driver.
func New(log hclog.Logger) driver.Driver { return &Driver{log: log} }

// Info names the driver.
func (d *Driver) Info(context.Context) (driver.Info, error) {
	return driver.Info{Name: Name, Version: Version}, nil
}

// ConfigSchema describes the driver's section: it has no options, so
// check-config refuses any, and the sample configuration shows none.
func (d *Driver) ConfigSchema(context.Context) ([]driver.ConfigOption, error) {
	return []driver.ConfigOption{}, nil
}

// Configure accepts no options: any option is a mistake worth reporting.
func (d *Driver) Configure(_ context.Context, options map[string]string) error {
	names := make([]string, 0, len(options))
	for name := range options {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) > 0 {
		return driver.InvalidOption(names[0], "the noop driver takes no options")
	}
	d.log.Debug("configured")
	return nil
}
