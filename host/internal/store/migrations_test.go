package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
)

func newMigration(uuid, node, key string) (Migration, Intent) {
	m := Migration{UUID: uuid, Status: MigrationPending, Kind: KindInventory, TargetBackend: "east", NodeUUID: node,
		Request: json.RawMessage(`{"source":{}}`), Plan: json.RawMessage(`{}`), IdempotencyKey: key, BodyHash: "h",
		RequestID: "req", UserID: "u", ProjectID: "p"}
	in := Intent{Owner: "a", OwnerEpoch: 1, Backend: "east", LeaseExpiresAt: time.Now().Add(time.Minute)}
	return m, in
}

// TestMigrationLifecycle: created with its intent and claim; the claim
// keeps adoptions and other migrations out (and an adopted node keeps a
// migration out); an idempotency key is one live migration's; a
// rolled-back migration frees its key and node and leaves a tombstone; a
// failed one keeps its claim for its retry.
func TestMigrationLifecycle(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			ctx := t.Context()
			const node = "10000000-0000-4000-8000-000000000001"
			m, in := newMigration("a0000000-0000-4000-8000-000000000001", node, "key-1")
			if err := st.CreateMigration(ctx, m, in); err != nil {
				t.Fatalf("CreateMigration: %v", err)
			}
			in.ServerUUID, in.NodeUUID, in.Action, in.MigrationUUID = m.UUID, node, ActionMigrate, m.UUID

			other, oin := newMigration("a0000000-0000-4000-8000-000000000002", node, "key-2")
			if err := st.CreateMigration(ctx, other, oin); !errors.Is(err, ErrNodeClaimed) {
				t.Errorf("second migration of the node = %v, want ErrNodeClaimed", err)
			}
			again, ain := newMigration("a0000000-0000-4000-8000-000000000003", "10000000-0000-4000-8000-000000000003", "key-1")
			if err := st.CreateMigration(ctx, again, ain); !errors.Is(err, ErrKeyUsed) {
				t.Errorf("a reused idempotency key = %v, want ErrKeyUsed", err)
			}
			srv := buildingServer()
			srv.NodeUUID = node
			if err := st.ClaimNode(ctx, srv, claimOf(srv, "a")); !errors.Is(err, ErrNodeClaimed) {
				t.Errorf("adopting a migrated node = %v, want ErrNodeClaimed", err)
			}
			own := claimOf(srv, "a")
			own.MigrationUUID = m.UUID
			if err := st.ClaimNode(ctx, srv, own); err != nil {
				t.Errorf("the migration's own adoption = %v", err)
			}
			if _, err := st.EndIntent(ctx, own, Outcome{Forget: true}); err != nil {
				t.Fatal(err)
			}
			if got, err := st.MigrationByKey(ctx, "key-1"); err != nil || got.UUID != m.UUID {
				t.Errorf("MigrationByKey = %+v, %v", got, err)
			}
			claims, err := st.ClaimedNodes(ctx, []string{node, "x"})
			if err != nil || claims[node] != m.UUID || len(claims) != 1 {
				t.Errorf("ClaimedNodes = %v, %v", claims, err)
			}

			// Failed: the claim stays; retried, running again.
			in.Steps = []Step{{Name: "adopt", Status: StepFailed}}
			if err := st.EndMigration(ctx, in, MigrationEnd{Status: MigrationFailed, Error: "Neutron down"}); err != nil {
				t.Fatal(err)
			}
			got, err := st.GetMigration(ctx, m.UUID)
			if err != nil || got.Status != MigrationFailed || got.Error != "Neutron down" || len(got.Steps) != 1 {
				t.Fatalf("after failing = %+v, %v", got, err)
			}
			if n, _ := st.MigrationClaims(ctx); n != 1 {
				t.Errorf("a failed migration's claims = %d, want 1", n)
			}
			retry := Intent{ServerUUID: m.UUID, NodeUUID: node, Backend: "east", Owner: "a", OwnerEpoch: 1, LeaseExpiresAt: time.Now().Add(time.Minute)}
			if err := st.RetryMigration(ctx, retry); err != nil {
				t.Fatalf("RetryMigration: %v", err)
			}
			if err := st.RetryMigration(ctx, retry); !errors.Is(err, ErrCommitted) {
				t.Errorf("retrying a running migration = %v, want refused", err)
			}
			retry.Action, retry.MigrationUUID = ActionMigrate, m.UUID

			// Cancel, then rolled back: key and node free, a tombstone.
			if err := st.RequestCancel(ctx, m.UUID, func([]Step) bool { return false }); err != nil {
				t.Fatal(err)
			}
			if err := st.SaveStepsUnlessCancelled(ctx, retry, nil); !errors.Is(err, ErrCancelled) {
				t.Errorf("a forward step of a cancelled migration = %v, want ErrCancelled", err)
			}
			if err := st.SaveSteps(ctx, retry, []Step{{Name: "enroll", Status: StepUndoing}}); err != nil {
				t.Errorf("its undo's record = %v", err)
			}
			if err := st.EndMigration(ctx, retry, MigrationEnd{Status: MigrationRolledBack, Error: "cancelled"}); err != nil {
				t.Fatal(err)
			}
			if n, _ := st.MigrationClaims(ctx); n != 0 {
				t.Error("a rolled-back migration kept its claim")
			}
			ts, err := st.MigrationTombstones(ctx, time.Now().Add(-time.Hour), 10)
			if err != nil || len(ts) != 1 || ts[0].MigrationUUID != m.UUID || ts[0].TargetBackend != "east" || ts[0].NodeUUID != node {
				t.Errorf("tombstones = %+v, %v", ts, err)
			}
			if err := st.CreateMigration(ctx, again, ain); err != nil {
				t.Errorf("the key of a rolled-back migration, used again = %v", err)
			}
			if n, err := st.PurgeMigrationTombstones(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
				t.Errorf("PurgeMigrationTombstones = %d, %v", n, err)
			}
		})
	}
}

// TestAdoptedNodeKeepsMigrationsOut and the claim of an adoption in
// progress.
func TestAdoptedNodeKeepsMigrationsOut(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			ctx := t.Context()
			srv := buildingServer()
			if err := st.ClaimNode(ctx, srv, claimOf(srv, "a")); err != nil {
				t.Fatal(err)
			}
			m, in := newMigration("a0000000-0000-4000-8000-000000000001", srv.NodeUUID, "")
			if err := st.CreateMigration(ctx, m, in); !errors.Is(err, ErrNodeTaken) {
				t.Errorf("migrating a node being adopted = %v, want ErrNodeTaken", err)
			}
			done := srv
			done.Status = StatusActive
			if _, err := st.EndIntent(ctx, claimOf(srv, "a"), Outcome{Record: &done}); err != nil {
				t.Fatal(err)
			}
			if err := st.CreateMigration(ctx, m, in); !errors.Is(err, ErrNodeTaken) {
				t.Errorf("migrating an adopted node = %v, want ErrNodeTaken", err)
			}
		})
	}
}

// TestListMigrations: newest first, by status, paged.
func TestListMigrations(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			ctx := t.Context()
			var uuids []string
			for i := range 5 {
				m, in := newMigration(fmt.Sprintf("a0000000-0000-4000-8000-00000000000%d", i), fmt.Sprintf("n%d", i), "")
				if err := st.CreateMigration(ctx, m, in); err != nil {
					t.Fatal(err)
				}
				uuids = append([]string{m.UUID}, uuids...)
				time.Sleep(2 * time.Millisecond)
			}
			var got []string
			marker := ""
			for {
				page, err := st.ListMigrations(ctx, MigrationListOptions{Limit: 2, Marker: marker})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range page {
					got = append(got, m.UUID)
				}
				if len(page) < 2 {
					break
				}
				marker = page[len(page)-1].UUID
			}
			if fmt.Sprint(got) != fmt.Sprint(uuids) {
				t.Errorf("paged = %v, want newest first %v", got, uuids)
			}
			if ms, err := st.ListMigrations(ctx, MigrationListOptions{Status: MigrationDone}); err != nil || len(ms) != 0 {
				t.Errorf("done ones = %v, %v", ms, err)
			}
			if _, err := st.ListMigrations(ctx, MigrationListOptions{Marker: "nope"}); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown marker = %v", err)
			}
		})
	}
}
