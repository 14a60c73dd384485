package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"

	"github.com/hashicorp/go-hclog"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// The schema, one directory of goose migrations per engine (their SQL
// differs in types); both carry the same versions with the same meaning. A
// schema change is a new NNNNN_name.sql in both directories, never an edit
// of an applied one; Open then asks for `mogan-api db sync` until it runs.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// versionTable is goose's bookkeeping table, under goose's default name.
const versionTable = goose.DefaultTablename

// Migrate creates or upgrades the schema of the database named by a
// `[database] connection` value and returns; `mogan-api db sync` calls it.
// It is idempotent. A missing SQLite file (and its directory) is created.
// On PostgreSQL a session advisory lock serializes concurrent runs. It
// refuses with ErrSchemaTooNew when a newer mogan-api migrated the database.
func Migrate(ctx context.Context, connection string, logger hclog.Logger) error {
	logger = orNullLogger(logger)
	cfg, err := parseConnection(connection)
	if err != nil {
		return err
	}
	if err := cfg.prepareSQLiteDir(); err != nil {
		return err
	}
	db, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	err = migrateDB(ctx, db, cfg.engine, logger.With("database", cfg.describe()))
	return errors.Join(err, db.Close())
}

// MigrateTo creates or upgrades the schema only up to version: a database
// as an older release left it, for the tests that upgrade one (db sync
// always migrates to the latest).
func MigrateTo(ctx context.Context, connection string, version int64, logger hclog.Logger) error {
	cfg, err := parseConnection(connection)
	if err != nil {
		return err
	}
	if err := cfg.prepareSQLiteDir(); err != nil {
		return err
	}
	db, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	p, err := newProvider(db, cfg.engine, orNullLogger(logger))
	if err == nil {
		_, err = p.UpTo(ctx, version)
	}
	return errors.Join(err, db.Close())
}

// migrateDB applies every pending migration to db.
func migrateDB(ctx context.Context, db *sql.DB, e engine, logger hclog.Logger) error {
	p, err := newProvider(db, e, logger)
	if err != nil {
		return err
	}
	// goose would silently do nothing on a newer schema; say so instead.
	if err := checkSchema(ctx, db, e, p); err != nil && !errors.Is(err, ErrSchemaOutOfDate) {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s database: %w", e, err)
	}
	for _, r := range results {
		logger.Info("applied schema migration", "version", r.Source.Version,
			"file", path.Base(r.Source.Path), "duration", r.Duration)
	}
	logger.Info("database schema is up to date", "version", latestVersion(p))
	return nil
}

// newProvider returns a goose Provider over e's embedded migrations.
func newProvider(db *sql.DB, e engine, logger hclog.Logger) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrationFiles, "migrations/"+e.migrationsDir())
	if err != nil {
		return nil, fmt.Errorf("embedded %s migrations: %w", e, err)
	}
	opts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithLogger(gooseLogger{logger}),
	}
	if e == enginePostgres {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("goose session locker: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(e.gooseDialect(), db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("load %s migrations: %w", e, err)
	}
	return p, nil
}

func (e engine) migrationsDir() string {
	if e == engineSQLite {
		return "sqlite"
	}
	return "postgres"
}

func latestVersion(p *goose.Provider) int64 {
	var v int64
	for _, s := range p.ListSources() {
		v = max(v, s.Version)
	}
	return v
}

// checkSchema compares the migrations applied to db with the embedded ones
// without writing anything: ErrSchemaTooNew when db has a version this
// binary does not know, ErrSchemaOutOfDate when one of ours is missing.
func checkSchema(ctx context.Context, db *sql.DB, e engine, p *goose.Provider) error {
	applied, err := appliedVersions(ctx, db, e)
	if err != nil {
		return err
	}
	want := latestVersion(p)
	have := int64(0)
	if len(applied) > 0 {
		have = slices.Max(applied)
	}
	if have > want {
		return fmt.Errorf("%w: the database is at schema version %d, this mogan-api knows versions up to %d; "+
			"run the mogan-api that migrated it, or a newer one", ErrSchemaTooNew, have, want)
	}
	for _, s := range p.ListSources() {
		if !slices.Contains(applied, s.Version) {
			return fmt.Errorf("%w: the database is at schema version %d, this mogan-api needs version %d; "+
				"run \"mogan-api db sync\" to create or upgrade it", ErrSchemaOutOfDate, have, want)
		}
	}
	return nil
}

// appliedVersions lists the migration versions recorded in goose's table;
// none when the table does not exist yet.
func appliedVersions(ctx context.Context, db *sql.DB, e engine) ([]int64, error) {
	var exists bool
	q := `SELECT to_regclass('` + versionTable + `') IS NOT NULL`
	if e == engineSQLite {
		q = `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '` + versionTable + `'`
	}
	if err := db.QueryRowContext(ctx, q).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	if !exists {
		return nil, nil
	}
	gs, err := database.NewStore(e.gooseDialect(), versionTable)
	if err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	rows, err := gs.ListMigrations(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	var versions []int64
	for _, r := range rows {
		if r.IsApplied && r.Version > 0 { // goose records a version 0 at creation
			versions = append(versions, r.Version)
		}
	}
	return versions, nil
}

// gooseLogger routes goose's own messages into hclog.
type gooseLogger struct{ logger hclog.Logger }

func (l gooseLogger) Printf(format string, v ...any) {
	l.logger.Debug(fmt.Sprintf(format, v...))
}

func (l gooseLogger) Fatalf(format string, v ...any) {
	// The Provider API returns errors and never calls Fatalf; should it, the
	// message is logged and the error surfaces through the return value.
	l.logger.Error(fmt.Sprintf(format, v...))
}
