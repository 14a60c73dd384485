package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// recoverIntents runs the start-up repair pass on demand (manage.Recover):
// every adoption or release this replica ([DEFAULT] host) left unfinished,
// and every one whose lease expired, is finished or rolled back, one line
// per intent and a summary on stdout. With --dry-run it changes nothing: it
// says what the pass would do, reading the intent log and the driver only.
// Both refuse while something answers on [api] host_ip:port: a running
// mogan-api owns this replica's intents.
func recoverIntents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	dryRun := false
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool {
		if a == "--dry-run" || a == "-dry-run" {
			dryRun = true
			return true
		}
		return false
	})
	cfg, err := loadConfig("mogan-api recover [--dry-run]", args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	// A running mogan-api of this replica owns its intents: repairing
	// them would fight its adoptions in flight, and a dry run would call
	// them interrupted.
	if conn, err := net.DialTimeout("tcp", cfg.API.Addr(), time.Second); err == nil {
		_ = conn.Close()
		return fmt.Errorf("something answers on [api] host_ip:port %s, probably mogan-api, which owns the intents of "+
			"[DEFAULT] host %s: stop it first (a restart runs this repair pass)", cfg.API.Addr(), cfg.Host)
	}
	st, err := store.OpenWithOptions(ctx, cfg.Database.Connection, log.Named("store"), store.OpenOptions{})
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	rep, err := startReplica(ctx, cfg, st, log, dryRun)
	if err != nil {
		return err
	}
	defer func() { _ = rep.lock.Close() }()
	backends, err := newBackends(cfg, log, nil)
	if err != nil {
		return namedError(cfg, err)
	}
	if err := startBackends(ctx, cfg, backends); err != nil {
		return namedError(cfg, err)
	}
	defer stopBackends(backends)
	// The first backend only, until the service takes every backend.
	svc, closeService, err := newService(ctx, cfg, st, managedBackends(backends), log, rep)
	if err != nil {
		return err
	}
	defer closeService()

	if dryRun {
		plan, err := svc.PlanRecovery(ctx)
		if err != nil {
			return err
		}
		for _, ir := range plan {
			printf(stdout, "would be %s\n", ir)
		}
		printf(stdout, "dry run: %s; nothing was changed\n", summary(plan))
		return nil
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go svc.KeepLeases(runCtx)
	// Migrations the pass takes over carry on in the background: recover
	// waits for them to end (or stop, on a signal) before it exits.
	waitMigrations := svc.StartMigrations(runCtx)
	repaired, err := svc.Recover(ctx)
	if err != nil {
		return fmt.Errorf("repair pass: %w", err)
	}
	waitMigrations()
	for _, ir := range repaired.Intents {
		printf(stdout, "%s\n", ir)
	}
	printf(stdout, "repair pass done: %s\n", summary(repaired.Intents))
	return nil
}

// summary counts intents by outcome.
func summary(irs []manage.IntentRepair) string {
	count := map[string]int{}
	for _, ir := range irs {
		count[ir.Outcome]++
	}
	var parts []string
	for _, o := range []string{manage.RepairCompleted, manage.RepairRolledBack, manage.RepairReleased, manage.RepairLeft} {
		parts = append(parts, fmt.Sprintf("%d %s", count[o], o))
	}
	noun := "intents"
	if len(irs) == 1 {
		noun = "intent"
	}
	return fmt.Sprintf("%d %s to repair: %s", len(irs), noun, strings.Join(parts, ", "))
}
