package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/config"
	"github.com/mogan-manage/mogan-manage/host/internal/metrics"
	"github.com/mogan-manage/mogan-manage/host/internal/pluginmanager"
)

// backend is one configured backend and the supervisor of its plugin
// process (one per backend, also when several run the same binary).
type backend struct {
	Config  config.Backend
	Manager *pluginmanager.Manager
}

// newBackends makes the plugin manager of each configured backend, in
// order (serve's, check-config's and recover's alike); it starts none
// (startBackends does). mtr may be nil (no metrics). A driver that is
// not in plugin_dir is a *config.Error naming [driver] name, or the
// backend's driver option.
func newBackends(cfg *config.Config, log hclog.Logger, mtr *metrics.Metrics) ([]backend, error) {
	backends := make([]backend, 0, len(cfg.Backends))
	for _, b := range cfg.Backends {
		m, err := newManager(cfg, b, log, mtr)
		if err != nil {
			return nil, err
		}
		backends = append(backends, backend{Config: b, Manager: m})
	}
	return backends, nil
}

// newManager makes the plugin manager of one backend.
func newManager(cfg *config.Config, b config.Backend, log hclog.Logger, mtr *metrics.Metrics) (*pluginmanager.Manager, error) {
	m, err := pluginmanager.New(pluginmanager.Config{
		Name:        b.Driver,
		Backend:     b.Name,
		PluginDir:   cfg.Driver.PluginDir,
		SHA256:      b.SHA256,
		CallTimeout: b.CallTimeout,
		Options:     b.Options,
		Logger:      log,
		Metrics:     mtr,
	})
	if err != nil {
		section, option := driverOption(cfg, b)
		return nil, &config.Error{File: cfg.File, Section: section, Option: option, Problem: err.Error()}
	}
	return m, nil
}

// driverOption is where the configuration names a backend's driver:
// [driver] name, or the backend's own driver option.
func driverOption(cfg *config.Config, b config.Backend) (section, option string) {
	if !cfg.BackendsListed {
		return "driver", "name"
	}
	return b.Name, "driver"
}

// startBackends starts every backend's plugin at once — each checks its
// pin, the handshake, its section against the options the driver
// describes, and is configured — and returns when all are done: nil, or
// the error of the first backend in the configured order that failed
// (a *backendError naming it), every plugin then stopped.
func startBackends(ctx context.Context, cfg *config.Config, backends []backend) error {
	errs := make([]error, len(backends))
	var wg sync.WaitGroup
	for i, b := range backends {
		wg.Go(func() {
			if err := b.Manager.Start(ctx); err != nil {
				errs[i] = &backendError{backend: b.Config, listed: cfg.BackendsListed, err: err}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			stopBackends(backends)
			return err
		}
	}
	return nil
}

// stopBackends stops every backend's plugin.
func stopBackends(backends []backend) {
	for _, b := range backends {
		b.Manager.Stop()
	}
}

// backendError is why a backend's plugin did not start. The plugin
// manager's own words name the backend (`backend "east" (driver
// "ironic")`, or `driver "ironic"` for one named after its driver);
// namedError finds the section of an option the driver refused here.
type backendError struct {
	backend config.Backend
	listed  bool // the backend has a section of its own ([DEFAULT] enabled_backends)
	err     error
}

func (e *backendError) Error() string { return pinSection(e.err.Error(), e.backend, e.listed) }

// pinSection names the backend's own section in msg where the plugin
// launcher names [driver] sha256: the pin is there only without
// enabled_backends.
func pinSection(msg string, b config.Backend, listed bool) string {
	if !listed {
		return msg
	}
	return strings.ReplaceAll(msg, "[driver] sha256", "["+b.Name+"] sha256")
}

func (e *backendError) Unwrap() error { return e.err }

// section is the section of the backend's options: its own.
func (e *backendError) section() string { return e.backend.Name }

// backendSection is the section an option the driver refused belongs to:
// that of the backend whose start failed, else the first backend's.
func backendSection(cfg *config.Config, err error) string {
	var be *backendError
	if errors.As(err, &be) {
		return be.section()
	}
	return cfg.Backends[0].Name
}

// describeBackends says which backends a configuration runs, for
// check-config's line: "driver ironic" for the one [driver] name
// implies, else "backends east (ironic), west (ironic)".
func describeBackends(cfg *config.Config) string {
	if !cfg.BackendsListed {
		return "driver " + cfg.Backends[0].Driver
	}
	parts := make([]string, len(cfg.Backends))
	for i, b := range cfg.Backends {
		parts[i] = fmt.Sprintf("%s (%s)", b.Name, b.Driver)
	}
	noun := "backends "
	if len(parts) == 1 {
		noun = "backend "
	}
	return noun + strings.Join(parts, ", ")
}
