package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mogan-manage/mogan-manage/host/internal/config"
	"github.com/mogan-manage/mogan-manage/host/internal/pluginmanager"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// driverList is a repeatable --driver flag.
type driverList []string

func (d *driverList) String() string     { return strings.Join(*d, ",") }
func (d *driverList) Set(v string) error { *d = append(*d, v); return nil }

// sampleConfig writes the sample configuration (make sample-config) to
// stdout: mogan-api's own sections from its option table, and the section
// of each --driver, as the driver plugin describes it over the contract
// (GetConfigSchema). A driver that does not describe its options gets a
// section saying so.
func sampleConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mogan-api sample-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("plugin-dir", "", "directory of the driver plugins (default: the directory of mogan-api)")
	var names driverList
	fs.Var(&names, "driver", "a driver whose section to include (repeatable), e.g. --driver ironic")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		*dir = filepath.Dir(exe)
	}
	sections := config.Sections()
	for _, name := range names {
		s, err := describeDriver(ctx, *dir, name)
		if err != nil {
			return err
		}
		sections = append(sections, s)
	}
	return config.WriteSample(stdout, sections)
}

// describeDriver starts the plugin (through the plugin manager, as every
// start) and asks it to describe its options.
func describeDriver(ctx context.Context, dir, name string) (config.Section, error) {
	m, err := pluginmanager.New(pluginmanager.Config{Name: name, PluginDir: dir, CallTimeout: probeTimeout})
	if err != nil {
		return config.Section{}, err
	}
	s := config.Section{Name: name, Origin: "mogan-driver-" + name}
	_, err = m.Probe(ctx, func(ctx context.Context, d driver.Full) error {
		describer, ok := d.(driver.ConfigDescriber)
		if !ok {
			return nil
		}
		opts, err := describer.ConfigSchema(ctx)
		if errors.Is(err, driver.ErrNotImplemented) {
			s.Origin += " (it does not describe its options)"
			return nil
		}
		if err != nil {
			return fmt.Errorf("GetConfigSchema: %w", err)
		}
		s.Options = opts
		return nil
	})
	if err != nil {
		return config.Section{}, fmt.Errorf("mogan-driver-%s: %w", name, oneLine(err))
	}
	return s, nil
}
