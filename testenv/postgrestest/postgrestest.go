// Package postgrestest gives a test a fresh database on the real
// PostgreSQL server the tests run against (127.0.0.1:5432, trust auth;
// .ci/run starts it), dropped when the test ends.
package postgrestest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// AdminURL is the PostgreSQL server the tests create their databases on;
// MOGAN_TEST_POSTGRES overrides it.
func AdminURL() string {
	if u := os.Getenv("MOGAN_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// NewDatabase creates a uniquely named database, dropped (with FORCE, so
// a host still connected does not keep it) when the test ends, and returns
// its connection URL. An unreachable server fails the test: PostgreSQL is
// part of what is tested, never optional.
func NewDatabase(t testing.TB, prefix string) string {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	admin := AdminURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL is not reachable (%v). The tests need a real server at %s "+
			"(trust auth; set MOGAN_TEST_POSTGRES to use another); .ci/run starts it.", err, admin)
	}
	defer func() { _ = conn.Close(ctx) }()
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	name := prefix + "_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
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
