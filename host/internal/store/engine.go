package store

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// engine is the SQL database behind a store; the few places where SQLite and
// PostgreSQL differ are its methods.
type engine int

const (
	engineSQLite engine = iota + 1
	enginePostgres
)

func (e engine) String() string {
	if e == engineSQLite {
		return "sqlite"
	}
	return "postgresql"
}

func (e engine) gooseDialect() goose.Dialect {
	if e == engineSQLite {
		return goose.DialectSQLite3
	}
	return goose.DialectPostgres
}

// rebind turns the '?' placeholders the queries are written with into
// PostgreSQL's $1, $2, …. The queries hold no '?' in literals.
func (e engine) rebind(query string) string {
	if e == engineSQLite {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// sqliteTimeLayout is fixed-width, so the TEXT columns sort as the times do
// (ListServers orders by created_at).
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

// timeArg is t as a query argument: TIMESTAMPTZ for PostgreSQL, TEXT for
// SQLite. t is already normalized (UTC, TimePrecision).
func (e engine) timeArg(t time.Time) any {
	if e == engineSQLite {
		return t.Format(sqliteTimeLayout)
	}
	return t
}

func (e engine) timePtrArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return e.timeArg(*t)
}

// The constraint names of the servers table, the same in both engines'
// migrations.
const (
	constraintServerUUID = "servers_pkey"
	constraintNodeUUID   = "servers_node_uuid_key"
)

// classify maps a unique violation on servers to ErrServerExists or
// ErrNodeTaken (keeping the driver's error in the chain) and returns any
// other error as it is.
func (e engine) classify(err error) error {
	var which string
	var pgErr *pgconn.PgError
	var liteErr *sqlite.Error
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505": // unique_violation
		which = pgErr.ConstraintName
	case errors.As(err, &liteErr) &&
		(liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		// SQLite names the column, not the constraint:
		// "UNIQUE constraint failed: servers.node_uuid".
		switch msg := liteErr.Error(); {
		case strings.Contains(msg, "servers.node_uuid"):
			which = constraintNodeUUID
		case strings.Contains(msg, "servers.uuid"):
			which = constraintServerUUID
		}
	}
	switch which {
	case constraintNodeUUID:
		return fmt.Errorf("%w (%w)", ErrNodeTaken, err)
	case constraintServerUUID:
		return fmt.Errorf("%w (%w)", ErrServerExists, err)
	}
	return err
}

// unavailable marks err as ErrUnavailable when it says the database could
// not be reached or dropped the connection (the caller may retry: 503),
// and returns any other error as it is. The driver's error stays in the
// chain.
func (e engine) unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !connectionLost(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// connectionLost reports whether err is a lost or refused connection
// rather than the database refusing the statement.
func connectionLost(err error) bool {
	var pgErr *pgconn.PgError
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01-03: the server is shutting
		// down, crashed or starting, or pg_terminate_backend ended us.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	case errors.As(err, &connectErr), errors.Is(err, driver.ErrBadConn), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE), errors.As(err, &netErr):
		return true
	}
	return false
}
