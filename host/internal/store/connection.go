package store

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SQLite connection settings, applied by the driver to every new connection
// of the pool. busy_timeout makes a writer wait for the lock instead of
// failing with "database is locked"; _txlock=immediate takes the write lock at
// BEGIN, so a transaction never has to upgrade a read lock (an upgrade fails
// at once, whatever the timeout). WAL lets readers run beside the writer.
const sqliteParams = "_busy_timeout=10000" +
	"&_journal_mode=WAL" +
	"&_synchronous=NORMAL" +
	"&_foreign_keys=1" +
	"&_txlock=immediate"

// Pool sizes. SQLite serializes writers anyway; a few connections let reads
// go on beside a write. PostgreSQL gets enough for concurrent requests
// without exhausting the server's max_connections when several hosts share it.
const (
	sqliteMaxConns   = 8
	postgresMaxConns = 16
	postgresMaxIdle  = 4
	postgresIdleTime = 5 * time.Minute
	postgresLifetime = 30 * time.Minute
)

// connConfig is a parsed `[database] connection` value.
type connConfig struct {
	engine engine
	// sqlitePath is the absolute file path (sqlite only).
	sqlitePath string
	// pg is the parsed PostgreSQL configuration (postgres only).
	pg *pgx.ConnConfig
}

// parseConnection reads a `[database] connection` value. Errors wrap
// ErrInvalidConnection and never repeat the string itself, which may hold a
// password.
func parseConnection(connection string) (connConfig, error) {
	if strings.TrimSpace(connection) == "" {
		return connConfig{}, fmt.Errorf("%w: it is empty; %s", ErrInvalidConnection, connectionForms)
	}
	scheme, _, ok := strings.Cut(connection, "://")
	if !ok {
		return connConfig{}, fmt.Errorf("%w: not a URL; %s", ErrInvalidConnection, connectionForms)
	}
	u, err := url.Parse(connection)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the URL, password included
		}
		return connConfig{}, fmt.Errorf("%w: not a valid URL: %w", ErrInvalidConnection, err)
	}
	switch strings.ToLower(scheme) {
	case "sqlite":
		return parseSQLite(u)
	case "postgres", "postgresql":
		return parsePostgres(connection)
	}
	// oslo.db (SQLAlchemy) URLs name a Python driver after a "+"; accept
	// them for PostgreSQL so a Mogan config can be reused as it is.
	if base, _, ok := strings.Cut(strings.ToLower(scheme), "+"); ok && (base == "postgres" || base == "postgresql") {
		return parsePostgres("postgresql" + connection[len(scheme):])
	}
	return connConfig{}, fmt.Errorf("%w: unsupported scheme %q; %s", ErrInvalidConnection, scheme, connectionForms)
}

const connectionForms = `use sqlite:///absolute/path/mogan.sqlite or postgresql://user:password@host:5432/dbname`

func parseSQLite(u *url.URL) (connConfig, error) {
	if u.Host != "" {
		return connConfig{}, fmt.Errorf("%w: sqlite URL has a host (%q); write sqlite:///absolute/path/mogan.sqlite with three slashes",
			ErrInvalidConnection, u.Host)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return connConfig{}, fmt.Errorf("%w: sqlite URL takes no query or fragment; the store sets the SQLite options itself",
			ErrInvalidConnection)
	}
	// sqlite:///a/b gives Path "/a/b"; SQLAlchemy's absolute form
	// sqlite:////a/b gives "//a/b", which Clean folds to the same path.
	p := filepath.Clean(u.Path)
	if u.Path == "" || p == "/" || !filepath.IsAbs(p) {
		return connConfig{}, fmt.Errorf("%w: sqlite URL needs an absolute file path, as in sqlite:///var/lib/mogan/mogan.sqlite",
			ErrInvalidConnection)
	}
	if strings.Contains(p, "?") {
		return connConfig{}, fmt.Errorf("%w: the sqlite file path must not contain '?'", ErrInvalidConnection)
	}
	return connConfig{engine: engineSQLite, sqlitePath: p}, nil
}

func parsePostgres(connection string) (connConfig, error) {
	cfg, err := pgx.ParseConfig(connection)
	if err != nil {
		// pgx redacts the password in its parse errors.
		return connConfig{}, fmt.Errorf("%w: not a valid PostgreSQL URL: %w", ErrInvalidConnection, err)
	}
	return connConfig{engine: enginePostgres, pg: cfg}, nil
}

// openDB returns a pool for the configured database. It does not connect.
func (c connConfig) openDB() (*sql.DB, error) {
	if c.engine == engineSQLite {
		// A plain path, not a file: URI, so SQLite's URI rules stay out of
		// it; the driver cuts its own parameters off at the first '?',
		// which parseSQLite keeps out of the path.
		db, err := sql.Open("sqlite", c.sqlitePath+"?"+sqliteParams)
		if err != nil {
			return nil, fmt.Errorf("open SQLite database %s: %w", c.sqlitePath, err)
		}
		db.SetMaxOpenConns(sqliteMaxConns)
		db.SetMaxIdleConns(sqliteMaxConns)
		return db, nil
	}
	db := stdlib.OpenDB(*c.pg)
	db.SetMaxOpenConns(postgresMaxConns)
	db.SetMaxIdleConns(postgresMaxIdle)
	db.SetConnMaxIdleTime(postgresIdleTime)
	db.SetConnMaxLifetime(postgresLifetime)
	return db, nil
}

// describe names the database for logs without credentials.
func (c connConfig) describe() string {
	if c.engine == engineSQLite {
		return c.sqlitePath
	}
	return fmt.Sprintf("%s:%d/%s", c.pg.Host, c.pg.Port, c.pg.Database)
}
