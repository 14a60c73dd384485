package store

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func claimOf(srv Server, owner string) Intent {
	return Intent{
		ServerUUID: srv.UUID, NodeUUID: srv.NodeUUID, RequestID: "req-1", UserID: "u", ProjectID: "p",
		Owner: owner, OwnerEpoch: 1, LeaseExpiresAt: time.Now().Add(time.Minute),
	}
}

func buildingServer() Server {
	srv := fullServer()
	srv.Status = StatusBuilding
	srv.Bindings, srv.Fault = nil, ""
	return srv
}

func TestIntentLifecycle(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			ctx := t.Context()
			srv := buildingServer()
			if err := st.ClaimNode(ctx, srv, claimOf(srv, "a")); err != nil {
				t.Fatalf("ClaimNode: %v", err)
			}
			other := srv
			other.UUID = "0e1d2c3b-4a59-4687-9a6b-5c4d3e2f1a0b"
			if err := st.ClaimNode(ctx, other, claimOf(other, "a")); !errors.Is(err, ErrNodeTaken) {
				t.Errorf("second ClaimNode of the node = %v, want ErrNodeTaken", err)
			}
			if _, err := st.GetIntent(ctx, other.UUID); !errors.Is(err, ErrNotFound) {
				t.Errorf("the refused claim left an intent: %v", err)
			}
			steps := []Step{{Name: "bind", Data: json.RawMessage(`{"port_id":"x"}`)}, {Name: "manage"}}
			claim := claimOf(srv, "a")
			notHolders := map[string]func(*Intent){
				"another owner":            func(in *Intent) { in.Owner = "b" },
				"an earlier start":         func(in *Intent) { in.OwnerEpoch = 0 },
				"a fence taken over since": func(in *Intent) { in.Fence = 1 },
			}
			for name, change := range notHolders {
				in := claim
				change(&in)
				if err := st.SaveSteps(ctx, in, steps); !errors.Is(err, ErrLeaseLost) {
					t.Errorf("SaveSteps by %s = %v, want ErrLeaseLost", name, err)
				}
				if err := st.SetIntentState(ctx, in, IntentRetry, "x"); !errors.Is(err, ErrLeaseLost) {
					t.Errorf("SetIntentState by %s = %v, want ErrLeaseLost", name, err)
				}
				if _, err := st.EndIntent(ctx, in, Outcome{Forget: true}); !errors.Is(err, ErrLeaseLost) {
					t.Errorf("EndIntent by %s = %v, want ErrLeaseLost", name, err)
				}
			}
			if err := st.SaveSteps(ctx, claim, steps); err != nil {
				t.Fatalf("SaveSteps: %v", err)
			}
			if err := st.BeginRelease(ctx, Intent{ServerUUID: srv.UUID, NodeUUID: srv.NodeUUID, Owner: "a",
				LeaseExpiresAt: time.Now()}); !errors.Is(err, ErrIntentExists) {
				t.Errorf("BeginRelease during the adoption = %v, want ErrIntentExists", err)
			}
			in, err := st.GetIntent(ctx, srv.UUID)
			if err != nil {
				t.Fatalf("GetIntent: %v", err)
			}
			if in.Action != ActionManage || in.State != IntentRunning || in.RequestID != "req-1" ||
				len(in.Steps) != 2 || string(in.Steps[0].Data) != `{"port_id":"x"}` {
				t.Errorf("intent = %+v", in)
			}
			done := srv
			done.Status = StatusActive
			got, err := st.EndIntent(ctx, in, Outcome{Record: &done})
			if err != nil {
				t.Fatalf("EndIntent: %v", err)
			}
			if got.Status != StatusActive {
				t.Errorf("recorded status %q", got.Status)
			}
			if _, err := st.GetIntent(ctx, srv.UUID); !errors.Is(err, ErrNotFound) {
				t.Errorf("intent after EndIntent: %v, want ErrNotFound", err)
			}
			if _, err := st.EndIntent(ctx, in, Outcome{Forget: true}); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("EndIntent twice = %v, want ErrLeaseLost", err)
			}
			if s, err := st.GetServer(ctx, srv.UUID); err != nil || s.Status != StatusActive {
				t.Errorf("server after a refused EndIntent = %+v, %v", s, err)
			}

			// Release: the intent, then forget with a tombstone.
			rel := Intent{ServerUUID: srv.UUID, NodeUUID: srv.NodeUUID, Owner: "a", OwnerEpoch: 1, LeaseExpiresAt: time.Now().Add(time.Minute)}
			if err := st.BeginRelease(ctx, rel); err != nil {
				t.Fatalf("BeginRelease: %v", err)
			}
			if err := st.SetServerState(ctx, srv.UUID, StatusError, "power off", "x"); err != nil {
				t.Fatalf("SetServerState: %v", err)
			}
			if s, _ := st.GetServer(ctx, srv.UUID); s.Status != StatusActive {
				t.Errorf("SetServerState changed a server with an intent: %q", s.Status)
			}
			if _, err := st.EndIntent(ctx, rel, Outcome{Forget: true, Tombstone: true}); err != nil {
				t.Fatalf("EndIntent(forget): %v", err)
			}
			if _, err := st.GetServer(ctx, srv.UUID); !errors.Is(err, ErrNotFound) {
				t.Errorf("server after forget: %v", err)
			}
			ts, err := st.Tombstones(ctx, time.Now().Add(-time.Hour), 10)
			if err != nil || len(ts) != 1 || ts[0].ServerUUID != srv.UUID || ts[0].NodeUUID != srv.NodeUUID {
				t.Fatalf("Tombstones = %+v, %v", ts, err)
			}
			if n, err := st.PurgeTombstones(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
				t.Errorf("PurgeTombstones = %d, %v", n, err)
			}
			if err := st.BeginRelease(ctx, rel); !errors.Is(err, ErrNotFound) {
				t.Errorf("BeginRelease of a forgotten server = %v, want ErrNotFound", err)
			}
		})
	}
}

// TestTakeOver: a replica takes the intents of its earlier starts
// whatever their lease, others' only once expired, and its own failed undos;
// of replicas racing for an expired intent exactly one gets it; each
// takeover grows the fence, so the previous holder is fenced out.
func TestTakeOver(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			ctx := t.Context()
			mk := func(uuid, node, owner string, epoch int64, lease time.Duration) Intent {
				srv := buildingServer()
				srv.UUID, srv.NodeUUID = uuid, node
				in := claimOf(srv, owner)
				in.OwnerEpoch, in.LeaseExpiresAt = epoch, time.Now().Add(lease)
				if err := st.ClaimNode(ctx, srv, in); err != nil {
					t.Fatalf("ClaimNode: %v", err)
				}
				return in
			}
			earlierStart := mk("00000000-0000-4000-8000-000000000001", "10000000-0000-4000-8000-000000000001", "a", 1, time.Hour)
			expired := mk("00000000-0000-4000-8000-000000000002", "10000000-0000-4000-8000-000000000002", "b", 1, -time.Second)
			otherLive := mk("00000000-0000-4000-8000-000000000003", "10000000-0000-4000-8000-000000000003", "b", 1, time.Hour)

			uuids := func(ins []Intent) []string {
				var out []string
				for _, in := range ins {
					out = append(out, in.ServerUUID)
				}
				return out
			}
			// Replicas c (four racing passes): only the expired one, once.
			var wg sync.WaitGroup
			results := make([][]Intent, 4)
			for i := range results {
				wg.Go(func() {
					got, err := st.TakeOver(ctx, "c", 1, time.Now().Add(time.Minute))
					if err != nil {
						t.Errorf("TakeOver: %v", err)
					}
					results[i] = got
				})
			}
			wg.Wait()
			var all []Intent
			for _, r := range results {
				all = append(all, r...)
			}
			if diff := cmp.Diff([]string{expired.ServerUUID}, uuids(all)); diff != "" {
				t.Errorf("intents taken by 4 racing takeovers (-want +got):\n%s", diff)
			}
			if len(all) == 1 && (all[0].Fence != expired.Fence+1 || all[0].Owner != "c") {
				t.Errorf("taken intent = owner %q fence %d, want c and %d", all[0].Owner, all[0].Fence, expired.Fence+1)
			}
			// b, which held it, is fenced out.
			if err := st.SaveSteps(ctx, expired, nil); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("SaveSteps by the holder before the takeover = %v, want ErrLeaseLost", err)
			}
			// Replica a, second start: its first start's live intent.
			got, err := st.TakeOver(ctx, "a", 2, time.Now().Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{earlierStart.ServerUUID}, uuids(got)); diff != "" {
				t.Errorf("a's second start took (-want +got):\n%s", diff)
			}
			if err := st.SaveSteps(ctx, earlierStart, nil); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("SaveSteps by a's first start = %v, want ErrLeaseLost", err)
			}
			// b's live lease is b's; renewing keeps it so.
			if err := st.RenewLeases(ctx, "b", 1, []string{otherLive.ServerUUID}, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if got, _ := st.TakeOver(ctx, "c", 1, time.Now().Add(time.Minute)); len(got) != 0 {
				t.Errorf("took live intents %v", uuids(got))
			}
			// An undo that failed is retried by its owner's reconciler.
			if err := st.SetIntentState(ctx, otherLive, IntentRetry, "disk full"); err != nil {
				t.Fatal(err)
			}
			got, _ = st.TakeOver(ctx, "b", 1, time.Now().Add(time.Minute))
			if len(got) != 1 || got[0].State != IntentRetry || got[0].LastError != "disk full" {
				t.Errorf("b's reconciler took %+v", got)
			}
		})
	}
}

// TestRepairCandidatesTakesNothing: the dry run of a takeover lists what
// TakeOver would take, and leaves every owner, lease and fence as it was.
func TestRepairCandidatesTakesNothing(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			ctx := t.Context()
			mk := func(uuid, node, owner string, lease time.Duration) Intent {
				srv := buildingServer()
				srv.UUID, srv.NodeUUID = uuid, node
				in := claimOf(srv, owner)
				in.LeaseExpiresAt = time.Now().Add(lease)
				if err := st.ClaimNode(ctx, srv, in); err != nil {
					t.Fatalf("ClaimNode: %v", err)
				}
				return in
			}
			own := mk("00000000-0000-4000-8000-000000000001", "10000000-0000-4000-8000-000000000001", "a", time.Hour)
			expired := mk("00000000-0000-4000-8000-000000000002", "10000000-0000-4000-8000-000000000002", "b", -time.Second)
			mk("00000000-0000-4000-8000-000000000003", "10000000-0000-4000-8000-000000000003", "b", time.Hour)
			tests := map[string]struct {
				epoch int64
				want  []string
			}{
				"a new start":       {epoch: 2, want: []string{own.ServerUUID, expired.ServerUUID}},
				"the running start": {epoch: 1, want: []string{expired.ServerUUID}},
			}
			for name, tc := range tests {
				for range 2 { // twice: the first took nothing
					got, err := st.RepairCandidates(ctx, "a", tc.epoch)
					if err != nil {
						t.Fatal(err)
					}
					var uuids []string
					for _, in := range got {
						uuids = append(uuids, in.ServerUUID)
					}
					if diff := cmp.Diff(tc.want, uuids, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
						t.Errorf("%s: candidates (-want +got):\n%s", name, diff)
					}
				}
			}
			if in, err := st.GetIntent(ctx, expired.ServerUUID); err != nil || in.Owner != "b" || in.Fence != 0 {
				t.Errorf("the expired intent after the dry runs = owner %q fence %d (%v), want b and 0", in.Owner, in.Fence, err)
			}
		})
	}
}
