package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/config"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// dbSync creates or upgrades the database schema and exits, like upstream's
// mogan-dbsync. Rows written before rows recorded their backend are then
// given the backend the configuration implies (--backend names it when
// several are enabled and none is [driver] name's).
func dbSync(ctx context.Context, args []string, stderr io.Writer) error {
	backend, args, err := backendFlag(args)
	if err != nil {
		return err
	}
	cfg, err := loadConfig("mogan-api db sync [--backend NAME]", args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	if err := store.Migrate(ctx, cfg.Database.Connection, log); err != nil {
		return err
	}
	if err := fillBackends(ctx, cfg, backend, log); err != nil {
		return err
	}
	log.Info("database schema is up to date")
	return nil
}

// backendFlag takes --backend NAME (or --backend=NAME) out of args.
func backendFlag(args []string) (backend string, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--backend" || a == "-backend":
			if i+1 == len(args) {
				return "", nil, errors.New("--backend needs a backend's name")
			}
			backend, i = args[i+1], i+1
		case strings.HasPrefix(a, "--backend="):
			backend = strings.TrimPrefix(a, "--backend=")
		case strings.HasPrefix(a, "-backend="):
			backend = strings.TrimPrefix(a, "-backend=")
		default:
			rest = append(rest, a)
		}
	}
	return backend, rest, nil
}

// fillBackends records the backend of servers, intents and tombstones
// written before they recorded theirs: the one backend the configuration
// implies — named by --backend, else the only one, else the one named
// after [driver] name (what the configuration meant before
// enabled_backends).
func fillBackends(ctx context.Context, cfg *config.Config, named string, log hclog.Logger) error {
	st, err := store.Open(ctx, cfg.Database.Connection, log)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	counts, err := st.BackendCounts(ctx)
	if err != nil {
		return err
	}
	unfilled := 0
	for _, byBackend := range counts {
		unfilled += byBackend[""]
	}
	if unfilled == 0 {
		return nil
	}
	names := make([]string, len(cfg.Backends))
	for i, b := range cfg.Backends {
		names[i] = b.Name
	}
	backend := named
	switch {
	case backend != "" && !slices.Contains(names, backend):
		return fmt.Errorf("--backend %s: no such backend (enabled: %v)", backend, names)
	case backend != "":
	case len(names) == 1:
		backend = names[0]
	case slices.Contains(names, cfg.Driver.Name):
		backend = cfg.Driver.Name
	default:
		return fmt.Errorf("%d servers, intents or tombstones were recorded before backends were, and several backends are enabled "+
			"(%v): run db sync again with --backend NAME, the backend that held them (the old [driver] name's)", unfilled, names)
	}
	n, err := st.FillBackend(ctx, backend)
	if err != nil {
		return err
	}
	log.Info("recorded the backend of what was adopted before backends were", "backend", backend, "rows", n)
	return nil
}

// checkRecordedBackends refuses to serve while rows recorded before
// backends were have none (db sync fills them), and warns, with their
// count, of servers whose backend is no longer configured: they keep
// showing, and acting on them is a 409 naming it.
func checkRecordedBackends(ctx context.Context, cfg *config.Config, st store.Store, log hclog.Logger) error {
	counts, err := st.BackendCounts(ctx)
	if err != nil {
		return err
	}
	unfilled := 0
	for _, byBackend := range counts {
		unfilled += byBackend[""]
	}
	if unfilled > 0 {
		return fmt.Errorf("%d servers, intents or tombstones have no backend recorded (they were written before backends were): "+
			"run \"mogan-api db sync --config-file %s\" first", unfilled, cfg.File)
	}
	for backend, n := range counts["servers"] {
		if !slices.ContainsFunc(cfg.Backends, func(b config.Backend) bool { return b.Name == backend }) {
			log.Warn("servers of a backend that is no longer configured: they keep showing, and acting on them is a 409 "+
				"until it is configured again", "backend", backend, "servers", n)
		}
	}
	return nil
}
