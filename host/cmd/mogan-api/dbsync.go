package main

import (
	"context"
	"io"

	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// dbSync creates or upgrades the database schema and exits, like upstream's
// mogan-dbsync.
func dbSync(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := loadConfig("mogan-api db sync", args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	if err := store.Migrate(ctx, cfg.Database.Connection, log); err != nil {
		return err
	}
	log.Info("database schema is up to date")
	return nil
}
