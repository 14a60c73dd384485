package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
	"github.com/mogan-manage/mogan-manage/host/internal/config"
	"github.com/mogan-manage/mogan-manage/host/internal/policy"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// checkConfig checks a configuration file as the server's start-up does,
// with the same code, and exits: the file itself (sections, options,
// values), the authentication and policy it names, the driver (found,
// pinned, its section checked against the options it describes and
// accepted by its Configure), Glance, Neutron and the notifier. It reads
// the database URL but does not open the database (that could create it),
// and opens no listener.
// Success is one line on stdout; a failure is one line naming the file,
// section and option (exit 2). A secret's value is never printed.
func checkConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig("mogan-api check-config", args, stderr)
	if err != nil {
		return err
	}
	// The answer is one line: the start-up's log (and its warnings, such
	// as a service not reachable yet, which is no configuration error)
	// stays out of it.
	log := hclog.New(&hclog.LoggerOptions{Name: "mogan-api", Level: hclog.Error, Output: redactingWriter{stderr}})
	if err := checkStartup(ctx, cfg, log); err != nil {
		return namedError(cfg, err)
	}
	where := cfg.File
	if where == "" {
		where = "the defaults"
	}
	printf(stdout, "mogan-api check-config: %s is valid (auth_strategy %s, %s, notifications %s)\n",
		where, cfg.AuthStrategy, describeBackends(cfg), cfg.Notifier.Driver)
	return nil
}

// checkStartup builds what serve builds from the configuration, with the
// same calls, and stops it again.
func checkStartup(ctx context.Context, cfg *config.Config, log hclog.Logger) error {
	if err := store.CheckConnection(cfg.Database.Connection); err != nil {
		return &config.Error{File: cfg.File, Section: "database", Option: "connection",
			Problem: strings.TrimPrefix(err.Error(), store.ErrInvalidConnection.Error()+": ")}
	}
	if _, err := auth.New(ctx, authConfig(cfg), log.Named("auth")); err != nil {
		return err
	}
	if _, err := policy.New(cfg.Policy.PolicyFile); err != nil {
		return &config.Error{File: cfg.File, Section: "oslo_policy", Option: "policy_file", Problem: err.Error()}
	}
	backends, err := newBackends(cfg, log, nil)
	if err != nil {
		return err
	}
	if err := startBackends(ctx, cfg, backends); err != nil {
		return err
	}
	defer stopBackends(backends)
	// The first backend only, until newService takes every backend.
	_, closeService, err := newService(ctx, cfg, nil, managedBackends(backends), log, replica{})
	if err != nil {
		return err
	}
	closeService()
	return nil
}

// namedError makes a start-up error one line naming the file, and the
// section and option when they are known: an option the driver refused
// is named in its backend's section.
func namedError(cfg *config.Config, err error) error {
	var ce *config.Error
	if errors.As(err, &ce) {
		return err
	}
	if option := driver.OptionOf(err); option != "" {
		problem := err.Error()
		var de *driver.Error
		if errors.As(err, &de) {
			problem = strings.TrimPrefix(de.Message, fmt.Sprintf("option %q: ", option))
		}
		return &config.Error{File: cfg.File, Section: backendSection(cfg, err), Option: option, Problem: problem}
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "http_basic_auth_user_file") {
		msg = "[DEFAULT] " + msg
	}
	return &config.Error{File: cfg.File, Problem: msg}
}
