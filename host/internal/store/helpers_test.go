package store

import (
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/testenv/postgrestest"
)

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

// newPostgresDB is a fresh database on the real PostgreSQL server.
func newPostgresDB(t *testing.T) string {
	t.Helper()
	return postgrestest.NewDatabase(t, "mogan_store_test")
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
