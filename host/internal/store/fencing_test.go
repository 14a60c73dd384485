package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestHostLock: one live process per [DEFAULT] host and database; another
// host, or the same after Close, is free at once; on PostgreSQL the
// refusal names the holder's connection.
func TestHostLock(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			_, conn := migratedStore(t, eng)
			ctx := t.Context()
			a, err := LockHost(ctx, conn, "r2", nil)
			if err != nil {
				t.Fatalf("LockHost: %v", err)
			}
			if !a.Held() {
				t.Error("a lock just taken is not held")
			}
			ctx2, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			_, err = LockHost(ctx2, conn, "r2", nil)
			if !errors.Is(err, ErrHostInUse) {
				t.Fatalf("second LockHost of r2 = %v, want ErrHostInUse", err)
			}
			if eng.name == "postgresql" && !regexpMatch(`connected from .+ since `, err.Error()) {
				t.Errorf("the refusal does not name the holder: %v", err)
			}
			if eng.name == "sqlite" && !regexpMatch(fmt.Sprintf(`process %d holds`, os.Getpid()), err.Error()) {
				t.Errorf("the refusal does not name the holder: %v", err)
			}
			other, err := LockHost(ctx, conn, "r8", nil)
			if err != nil {
				t.Fatalf("LockHost of another host: %v", err)
			}
			defer func() { _ = other.Close() }()
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if a.Held() {
				t.Error("a closed lock is held")
			}
			again, err := LockHost(ctx, conn, "r2", nil)
			if err != nil {
				t.Fatalf("LockHost after Close: %v", err)
			}
			_ = again.Close()
		})
	}
}

// TestHostLockAfterTerminatedSession: PostgreSQL drops a terminated
// session's lock (as it does a killed process's), so the next start is
// never blocked.
func TestHostLockAfterTerminatedSession(t *testing.T) {
	_, conn := migratedStore(t, engines()[1])
	ctx := t.Context()
	a, err := LockHost(ctx, conn, "r2", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	admin, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(ctx) }()
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name LIKE 'mogan-api host lock:%' AND datname = current_database()`); err != nil {
		t.Fatal(err)
	}
	b, err := LockHost(ctx, conn, "r2", nil)
	if err != nil {
		t.Fatalf("LockHost after the holder's session ended = %v", err)
	}
	_ = b.Close()
}

// TestStartReplica: each start of a host gets the next epoch; hosts count
// apart.
func TestStartReplica(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			var got []int64
			for _, h := range []string{"a", "a", "b", "a"} {
				e, err := st.StartReplica(t.Context(), h)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, e)
			}
			if fmt.Sprint(got) != "[1 2 1 3]" {
				t.Errorf("epochs = %v, want [1 2 1 3]", got)
			}
		})
	}
}

// TestBindingTombstones: one per port, refreshed in place; listed by
// port page and by ports; purged by age; the intents' nodes are told.
func TestBindingTombstones(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			ctx := t.Context()
			old := time.Now().Add(-2 * time.Hour)
			for _, bt := range []BindingTombstone{
				{PortID: "p1", NodeUUID: "n1", PrevHostID: "", PrevVNICType: "normal"},
				{PortID: "p2", NodeUUID: "n1", PrevHostID: "h", PrevVNICType: "normal"},
				{PortID: "p3", NodeUUID: "n2", PrevHostID: "", PrevVNICType: "normal", CreatedAt: old},
				{PortID: "p1", NodeUUID: "n9", PrevHostID: "x", PrevVNICType: "direct"},
			} {
				if err := st.SaveBindingTombstone(ctx, bt); err != nil {
					t.Fatal(err)
				}
			}
			since := time.Now().Add(-time.Hour)
			page, err := st.BindingTombstones(ctx, since, "", 1)
			if err != nil || len(page) != 1 || page[0].PortID != "p1" || page[0].NodeUUID != "n9" || page[0].PrevVNICType != "direct" {
				t.Fatalf("first page = %+v, %v", page, err)
			}
			page, err = st.BindingTombstones(ctx, since, "p1", 10)
			if err != nil || len(page) != 1 || page[0].PortID != "p2" {
				t.Fatalf("next page = %+v, %v", page, err)
			}
			of, err := st.BindingTombstonesOf(ctx, []string{"p2", "p3", "p4"}, since)
			if err != nil || len(of) != 1 || of["p2"].PrevHostID != "h" {
				t.Fatalf("BindingTombstonesOf = %+v, %v", of, err)
			}
			if n, err := st.PurgeBindingTombstones(ctx, since); err != nil || n != 1 {
				t.Errorf("PurgeBindingTombstones = %d, %v; want the old one", n, err)
			}
			srv := buildingServer()
			if err := st.ClaimNode(ctx, srv, claimOf(srv, "a")); err != nil {
				t.Fatal(err)
			}
			busy, err := st.NodesInProgress(ctx, []string{srv.NodeUUID, "n1"})
			if err != nil || !busy[srv.NodeUUID] || busy["n1"] {
				t.Errorf("NodesInProgress = %v, %v", busy, err)
			}
		})
	}
}

// TestUnavailableClassification: connection failures are ErrUnavailable;
// a statement the database refuses is not.
func TestUnavailableClassification(t *testing.T) {
	cases := map[string]struct {
		err  error
		want bool
	}{
		"terminated":      {&pgconn.PgError{Code: "57P01"}, true},
		"connection lost": {&pgconn.PgError{Code: "08006"}, true},
		"closed conn":     {fmt.Errorf("x: %w", pgconn.ErrConnClosed), true},
		"refused":         {&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		"unique":          {&pgconn.PgError{Code: "23505"}, false},
		"syntax":          {&pgconn.PgError{Code: "42601"}, false},
		"plain":           {errors.New("boom"), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := errors.Is(enginePostgres.unavailable(tc.err), ErrUnavailable); got != tc.want {
				t.Errorf("unavailable(%v) is ErrUnavailable = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// TestFillBackend: rows written before rows recorded their backend are
// filled by db sync, and only those; the counts say which backend holds
// what.
func TestFillBackend(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			ctx := t.Context()
			old := buildingServer() // written before: no backend
			if err := st.ClaimNode(ctx, old, claimOf(old, "a")); err != nil {
				t.Fatal(err)
			}
			recent := buildingServer()
			recent.UUID, recent.NodeUUID, recent.Backend = "0e1d2c3b-4a59-4687-9a6b-5c4d3e2f1a0b", "n2", "west"
			in := claimOf(recent, "a")
			in.Backend = "west"
			if err := st.ClaimNode(ctx, recent, in); err != nil {
				t.Fatal(err)
			}
			if err := st.SaveBindingTombstone(ctx, BindingTombstone{PortID: "p", NodeUUID: "n", PrevVNICType: "normal"}); err != nil {
				t.Fatal(err)
			}
			n, err := st.FillBackend(ctx, "east")
			if err != nil || n != 3 {
				t.Fatalf("FillBackend = %d, %v; want 3 rows (server, intent, binding tombstone)", n, err)
			}
			counts, err := st.BackendCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]map[string]int{
				"servers": {"east": 1, "west": 1}, "intents": {"east": 1, "west": 1},
				"tombstones": {}, "binding_tombstones": {"east": 1},
			}
			if fmt.Sprint(counts) != fmt.Sprint(want) {
				t.Errorf("counts = %v, want %v", counts, want)
			}
			if got, _ := st.GetServer(ctx, recent.UUID); got.Backend != "west" {
				t.Errorf("a server that had its backend now has %q", got.Backend)
			}
			if got, _ := st.GetIntent(ctx, old.UUID); got.Backend != "east" {
				t.Errorf("filled intent backend = %q", got.Backend)
			}
		})
	}
}
