package main

import (
	"context"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// Name and Version identify the test driver.
const (
	Name    = "test"
	Version = "0.0.1-test"
)

// testDriver misbehaves as its control file says.
type testDriver struct {
	log hclog.Logger

	mu          sync.Mutex
	controlFile string
	// assoc is node → server, as Manage and Unmanage left it.
	assoc map[string]string
}

// The capabilities it has; the SDK answers Unimplemented for the others.
var (
	_ driver.Discoverer  = (*testDriver)(nil)
	_ driver.Adopter     = (*testDriver)(nil)
	_ driver.StateReader = (*testDriver)(nil)
)

func newDriver(log hclog.Logger) driver.Driver { return &testDriver{log: log} }

func (d *testDriver) Info(context.Context) (driver.Info, error) {
	return driver.Info{Name: Name, Version: Version}, nil
}

// Configure takes one option, control_file, which must be readable.
func (d *testDriver) Configure(_ context.Context, options map[string]string) error {
	names := make([]string, 0, len(options))
	for name := range options {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name != "control_file" {
			return driver.InvalidOption(name, "unknown option (the test driver takes only control_file)")
		}
	}
	path := options["control_file"]
	if _, err := readControl(path); err != nil {
		return driver.InvalidOption("control_file", "%v", err)
	}
	d.mu.Lock()
	d.controlFile = path
	d.mu.Unlock()
	d.log.Debug("configured", "control_file", path)
	return nil
}

// control re-reads the control file: a test may have changed it.
func (d *testDriver) control() (control, error) {
	d.mu.Lock()
	path := d.controlFile
	d.mu.Unlock()
	c, err := readControl(path)
	if err != nil {
		return c, driver.Unavailable("test driver: %v", err)
	}
	return c, nil
}

// misbehave carries out mode for call; it returns a non-nil error for an
// error mode and nil when the call should go on normally.
func misbehave(ctx context.Context, c control, mode, call, uuid string) error {
	if (mode == modePanic || mode == modeExit) && c.Delay > 0 {
		// Lets what was already sent reach the host first.
		time.Sleep(time.Duration(c.Delay))
	}
	switch mode {
	case modePanic:
		panic("testdriver: told to panic in " + call)
	case modeExit:
		os.Exit(2)
	case modeHang:
		<-ctx.Done()
		return ctx.Err()
	case modeSlow:
		return sleep(ctx, time.Duration(c.Delay))
	case modeNotFound:
		return driver.NotFound("node %s not found (told so)", uuid)
	case modeNotManageable:
		reason := c.Reason
		if reason == "" {
			reason = maintenanceReason
		}
		return driver.NotManageable(uuid, reason)
	case modeConflict:
		return driver.Conflict("node %s belongs to someone else (told so)", uuid)
	case modeUnavailable:
		return driver.Unavailable("backend unavailable (told so)")
	case modeInvalid:
		return driver.InvalidArgument("invalid request (told so)")
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
