package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
)

// postgresAdminURL is the real PostgreSQL the tests create their databases
// in; MOGAN_TEST_POSTGRES overrides it.
func postgresAdminURL() string {
	if u := os.Getenv("MOGAN_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// testEngine makes a fresh, empty database of one engine for one test.
type testEngine struct {
	name  string
	newDB func(t *testing.T) string // returns its `[database] connection`
}

// engines lists both engines; every test runs against each.
func engines() []testEngine {
	return []testEngine{
		{name: "sqlite", newDB: newSQLiteDB},
		{name: "postgresql", newDB: newPostgresDB},
	}
}

func newSQLiteDB(t *testing.T) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "mogan.sqlite")
}

// newPostgresDB creates a uniquely named database and drops it when the
// test ends. An unreachable server fails the test: PostgreSQL is part of
// what is tested, never optional.
func newPostgresDB(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	admin := postgresAdminURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL is not reachable (%v). The store tests need a real server at %s "+
			"(trust auth; set MOGAN_TEST_POSTGRES to use another); .ci/run starts it.", err, admin)
	}
	defer func() { _ = conn.Close(ctx) }()
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	name := "mogan_store_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx := context.WithoutCancel(t.Context())
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer func() { _ = c.Close(ctx) }()
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("MOGAN_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Output: t.Output(), Level: hclog.Debug})
}

// openStore opens a store on connection, closed when the test ends.
func openStore(t *testing.T, connection string) Store {
	t.Helper()
	st, err := Open(t.Context(), connection, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// migratedStore is a store on a fresh, migrated database of eng.
func migratedStore(t *testing.T, eng testEngine) (Store, string) {
	t.Helper()
	conn := eng.newDB(t)
	if err := Migrate(t.Context(), conn, testLogger(t)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return openStore(t, conn), conn
}
