package store

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMigrateIsIdempotent(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			conn := eng.newDB(t)
			if err := Migrate(t.Context(), conn, testLogger(t)); err != nil {
				t.Fatalf("first Migrate: %v", err)
			}
			st := openStore(t, conn)
			want := fullServer()
			if err := st.CreateServer(t.Context(), want); err != nil {
				t.Fatalf("CreateServer: %v", err)
			}
			for i := range 2 {
				if err := Migrate(t.Context(), conn, testLogger(t)); err != nil {
					t.Fatalf("Migrate again (%d): %v", i, err)
				}
			}
			versions := rawAppliedVersions(t, conn)
			if diff := cmp.Diff(embeddedVersionsDesc(t), versions); diff != "" {
				t.Errorf("applied versions (-want +got):\n%s", diff)
			}
			got, err := openStore(t, conn).GetServer(t.Context(), want.UUID)
			if err != nil {
				t.Fatalf("GetServer after re-migrating: %v", err)
			}
			if diff := cmp.Diff(normalizeTimes(want), got); diff != "" {
				t.Errorf("server after re-migrating (-want +got):\n%s", diff)
			}
		})
	}
}

// rawAppliedVersions reads the schema versions straight from the database.
func rawAppliedVersions(t *testing.T, connection string) []int64 {
	t.Helper()
	cfg, err := parseConnection(connection)
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, cfg)
	v, err := appliedVersions(t.Context(), db, cfg.engine)
	if err != nil {
		t.Fatalf("appliedVersions: %v", err)
	}
	return v
}

func rawDB(t *testing.T, cfg connConfig) *sql.DB {
	t.Helper()
	db, err := connect(t.Context(), cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestOpenChecksSchema(t *testing.T) {
	cases := map[string]struct {
		prepare func(t *testing.T, connection string)
		want    error
		wantMsg string
	}{
		"empty database": {
			prepare: func(t *testing.T, connection string) {
				cfg, _ := parseConnection(connection)
				rawDB(t, cfg) // connecting creates an empty SQLite file
			},
			want: ErrSchemaOutOfDate, wantMsg: `run "mogan-api db sync"`,
		},
		"goose table without our migration": {
			prepare: func(t *testing.T, connection string) {
				cfg, _ := parseConnection(connection)
				db := rawDB(t, cfg)
				exec(t, db, cfg.engine, `CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY, version_id BIGINT NOT NULL, is_applied BOOLEAN NOT NULL, tstamp TIMESTAMP)`)
				exec(t, db, cfg.engine, `INSERT INTO goose_db_version (id, version_id, is_applied) VALUES (1, 0, TRUE)`)
			},
			want: ErrSchemaOutOfDate, wantMsg: fmt.Sprintf("needs version %d", len(embeddedVersionsDesc(t))),
		},
		"newer schema than known": {
			prepare: func(t *testing.T, connection string) {
				if err := Migrate(t.Context(), connection, testLogger(t)); err != nil {
					t.Fatalf("Migrate: %v", err)
				}
				cfg, _ := parseConnection(connection)
				exec(t, rawDB(t, cfg), cfg.engine, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99, TRUE)`)
			},
			want: ErrSchemaTooNew, wantMsg: "schema version 99",
		},
	}
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			for name, tc := range cases {
				t.Run(name, func(t *testing.T) {
					conn := eng.newDB(t)
					tc.prepare(t, conn)
					st, err := Open(t.Context(), conn, testLogger(t))
					if err == nil {
						_ = st.Close()
						t.Fatalf("Open succeeded, want %v", tc.want)
					}
					if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.wantMsg) {
						t.Errorf("Open = %q, want %v mentioning %q", err, tc.want, tc.wantMsg)
					}
				})
			}
		})
	}
	t.Run("postgresql/migrate refuses a newer schema", func(t *testing.T) {
		conn := newPostgresDB(t)
		cases["newer schema than known"].prepare(t, conn)
		if err := Migrate(t.Context(), conn, testLogger(t)); !errors.Is(err, ErrSchemaTooNew) {
			t.Errorf("Migrate = %v, want ErrSchemaTooNew", err)
		}
	})
	t.Run("sqlite/migrate refuses a newer schema", func(t *testing.T) {
		conn := newSQLiteDB(t)
		cases["newer schema than known"].prepare(t, conn)
		if err := Migrate(t.Context(), conn, testLogger(t)); !errors.Is(err, ErrSchemaTooNew) {
			t.Errorf("Migrate = %v, want ErrSchemaTooNew", err)
		}
	})
}

func exec(t *testing.T, db *sql.DB, e engine, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), e.rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestOpenSQLiteFile(t *testing.T) {
	cases := map[string]struct {
		prepare func(t *testing.T, path string)
		opts    OpenOptions
		want    error // nil: opens
	}{
		"missing file is out of date": {
			want: ErrSchemaOutOfDate,
		},
		"missing file and directory are created on request": {
			opts: OpenOptions{CreateIfMissing: true},
		},
		"an existing unmigrated file is not upgraded at start": {
			prepare: func(t *testing.T, path string) {
				if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			},
			opts: OpenOptions{CreateIfMissing: true},
			want: ErrSchemaOutOfDate,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "var", "lib", "mogan", "mogan.sqlite")
			if tc.prepare != nil {
				tc.prepare(t, path)
			}
			st, err := OpenWithOptions(t.Context(), "sqlite://"+path, testLogger(t), tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("OpenWithOptions = %v, want %v", err, tc.want)
			}
			if err != nil {
				if tc.prepare == nil {
					if _, statErr := os.Stat(path); !errors.Is(statErr, os.ErrNotExist) {
						t.Errorf("a refused Open left a file behind: %v", statErr)
					}
				}
				return
			}
			if err := st.CreateServer(t.Context(), Server{UUID: "u", Name: "n", NodeUUID: "node"}); err != nil {
				t.Errorf("CreateServer on the new database: %v", err)
			}
			if err := st.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			// The next start finds it as it was left.
			if _, err := openStore(t, "sqlite://"+path).GetServer(t.Context(), "u"); err != nil {
				t.Errorf("GetServer after reopening: %v", err)
			}
		})
	}
}

func TestPostgresIgnoresCreateIfMissing(t *testing.T) {
	conn := newPostgresDB(t)
	_, err := OpenWithOptions(t.Context(), conn, testLogger(t), OpenOptions{CreateIfMissing: true})
	if !errors.Is(err, ErrSchemaOutOfDate) {
		t.Errorf("OpenWithOptions = %v, want ErrSchemaOutOfDate", err)
	}
}

// TestUpgradeFromVersion1KeepsServers: a database made by the first
// release (schema version 1) is upgraded by Migrate ("mogan-api db sync")
// and keeps its servers, which read back with no bindings and no fault.
func TestUpgradeFromVersion1KeepsServers(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			conn := eng.newDB(t)
			cfg, err := parseConnection(conn)
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.prepareSQLiteDir(); err != nil {
				t.Fatal(err)
			}
			db := rawDB(t, cfg)
			p, err := newProvider(db, cfg.engine, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(t.Context(), 1); err != nil {
				t.Fatalf("migrating to version 1: %v", err)
			}
			// A row exactly as the first release wrote it.
			created := "2026-01-02T03:04:05.000000Z"
			var createdArg any = created
			if cfg.engine == enginePostgres {
				createdArg = "2026-01-02 03:04:05+00"
			}
			exec(t, db, cfg.engine, `INSERT INTO servers (uuid, name, node_uuid, status, power_state, project_id, user_id,
				metadata, system_metadata, addresses, created_at)
				VALUES ('11111111-1111-4111-8111-111111111111', 'old', '22222222-2222-4222-8222-222222222222', 'active',
				'power on', 'p', 'u', '{"a":"b"}', '{"managed_server":"True"}', '{}', ?)`, createdArg)
			if _, err := Open(t.Context(), conn, testLogger(t)); !errors.Is(err, ErrSchemaOutOfDate) {
				t.Fatalf("Open before db sync = %v, want ErrSchemaOutOfDate", err)
			}
			if err := Migrate(t.Context(), conn, testLogger(t)); err != nil {
				t.Fatalf("Migrate from version 1: %v", err)
			}
			got, err := openStore(t, conn).GetServer(t.Context(), "11111111-1111-4111-8111-111111111111")
			if err != nil {
				t.Fatalf("GetServer after upgrade: %v", err)
			}
			if got.Name != "old" || got.Metadata["a"] != "b" || got.Status != StatusActive || got.Bindings != nil || got.Fault != "" {
				t.Errorf("server after upgrade = %+v", got)
			}
		})
	}
}

// embeddedVersionsDesc are the versions of the embedded migrations (one
// file per version in each engine's directory), newest first.
func embeddedVersionsDesc(t *testing.T) []int64 {
	t.Helper()
	files, err := fs.Glob(migrationFiles, "migrations/sqlite/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded migrations: %v %v", files, err)
	}
	var out []int64
	for v := int64(len(files)); v >= 1; v-- {
		out = append(out, v)
	}
	return out
}
