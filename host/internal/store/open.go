package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
)

// OpenOptions tune OpenWithOptions.
type OpenOptions struct {
	// CreateIfMissing lets the embedded SQLite default be created at first
	// start: when the sqlite:// file does not exist, it (and its directory)
	// is created and migrated before opening. An existing file is never
	// upgraded here — that stays `mogan-api db sync`'s job. PostgreSQL
	// databases are never created; the option is ignored for them.
	CreateIfMissing bool
}

// Open connects to the database named by a `[database] connection` value
// (sqlite:///abs/path or postgresql://...) and checks its schema: it refuses
// with ErrSchemaOutOfDate when the database is not migrated to this
// version (a missing SQLite file included) and with ErrSchemaTooNew when a
// newer mogan-api migrated it. It is OpenWithOptions with zero options.
func Open(ctx context.Context, connection string, logger hclog.Logger) (Store, error) {
	return OpenWithOptions(ctx, connection, logger, OpenOptions{})
}

// OpenWithOptions is Open with options; see OpenOptions.
func OpenWithOptions(ctx context.Context, connection string, logger hclog.Logger, opts OpenOptions) (Store, error) {
	logger = orNullLogger(logger)
	cfg, err := parseConnection(connection)
	if err != nil {
		return nil, err
	}
	logger = logger.With("database", cfg.describe())
	if cfg.engine == engineSQLite {
		if err := cfg.ensureSQLiteFile(ctx, logger, opts.CreateIfMissing); err != nil {
			return nil, err
		}
	}
	db, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	p, err := newProvider(db, cfg.engine, logger)
	if err == nil {
		err = checkSchema(ctx, db, cfg.engine, p)
	}
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	logger.Debug("opened store", "engine", cfg.engine.String(), "schema_version", latestVersion(p))
	return newSQLStore(db, cfg.engine), nil
}

// ensureSQLiteFile makes sure the SQLite file exists before the driver
// opens it, because the driver would silently create an empty one.
func (c connConfig) ensureSQLiteFile(ctx context.Context, logger hclog.Logger, create bool) error {
	_, err := os.Stat(c.sqlitePath)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("SQLite database %s: %w", c.sqlitePath, err)
	case !create:
		return fmt.Errorf("%w: SQLite database %s does not exist; run \"mogan-api db sync\" to create it",
			ErrSchemaOutOfDate, c.sqlitePath)
	}
	logger.Info("creating the SQLite database at first start")
	if err := c.prepareSQLiteDir(); err != nil {
		return err
	}
	db, err := connect(ctx, c)
	if err != nil {
		return err
	}
	err = migrateDB(ctx, db, c.engine, logger)
	return errors.Join(err, db.Close())
}

// prepareSQLiteDir creates the SQLite file's directory if needed.
func (c connConfig) prepareSQLiteDir() error {
	if c.engine != engineSQLite {
		return nil
	}
	dir := filepath.Dir(c.sqlitePath)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create directory for SQLite database: %w", err)
	}
	return nil
}

// connect opens the pool and checks that the database answers.
func connect(ctx context.Context, cfg connConfig) (*sql.DB, error) {
	db, err := cfg.openDB()
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(
			fmt.Errorf("connect to %s database %s: %w", cfg.engine, cfg.describe(), err),
			db.Close())
	}
	return db, nil
}

func orNullLogger(l hclog.Logger) hclog.Logger {
	if l == nil {
		return hclog.NewNullLogger()
	}
	return l
}
