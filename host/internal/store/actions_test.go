package store

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestActionsRecordEveryEndedIntent: an adoption, a release and a
// rolled-back adoption each leave one action, written with the end of
// their intent, kept after the server is gone, newest first; a refused end
// (another replica's intent) leaves none.
func TestActionsRecordEveryEndedIntent(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			ctx := t.Context()
			srv := buildingServer()
			claim := claimOf(srv, "a")
			claim.RequestID, claim.UserID, claim.ProjectID = "req-adopt", "admin-user", "admin-project"
			began := time.Now().Add(-time.Second)
			if err := st.ClaimNode(ctx, srv, claim); err != nil {
				t.Fatalf("ClaimNode: %v", err)
			}
			if got, err := st.Actions(ctx, srv.UUID); err != nil || len(got) != 0 {
				t.Errorf("actions of an adoption in progress = %v, %v; want none", got, err)
			}
			// Another replica cannot end it, and records nothing trying.
			notMine := claim
			notMine.Owner = "b"
			if _, err := st.EndIntent(ctx, notMine, Outcome{Forget: true, Fault: "x"}); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("EndIntent by another replica = %v, want ErrLeaseLost", err)
			}
			done := srv
			done.Status = StatusActive
			if _, err := st.EndIntent(ctx, claim, Outcome{Record: &done}); err != nil {
				t.Fatalf("EndIntent(record): %v", err)
			}
			rel := Intent{ServerUUID: srv.UUID, NodeUUID: srv.NodeUUID, RequestID: "req-release", UserID: "u2",
				ProjectID: "p2", Owner: "a", LeaseExpiresAt: time.Now().Add(time.Minute)}
			if err := st.BeginRelease(ctx, rel); err != nil {
				t.Fatalf("BeginRelease: %v", err)
			}
			if _, err := st.EndIntent(ctx, rel, Outcome{Forget: true, Tombstone: true}); err != nil {
				t.Fatalf("EndIntent(release): %v", err)
			}
			// A second adoption of the node that is rolled back.
			again := buildingServer()
			again.UUID = "0e1d2c3b-4a59-4687-9a6b-5c4d3e2f1a0b"
			claim2 := claimOf(again, "a")
			claim2.RequestID = "req-failed"
			if err := st.ClaimNode(ctx, again, claim2); err != nil {
				t.Fatalf("ClaimNode again: %v", err)
			}
			if _, err := st.EndIntent(ctx, claim2, Outcome{Forget: true, Fault: "Neutron is unavailable"}); err != nil {
				t.Fatalf("EndIntent(rollback): %v", err)
			}
			finished := time.Now().Add(time.Second)

			if _, err := st.GetServer(ctx, srv.UUID); !errors.Is(err, ErrNotFound) {
				t.Fatalf("released server still there: %v", err)
			}
			got, err := st.Actions(ctx, srv.UUID)
			if err != nil {
				t.Fatalf("Actions: %v", err)
			}
			want := []Action{
				{ServerUUID: srv.UUID, Action: ActionUnmanage, RequestID: "req-release", UserID: "u2", ProjectID: "p2", Result: ResultSuccess},
				{ServerUUID: srv.UUID, Action: ActionManage, RequestID: "req-adopt", UserID: "admin-user", ProjectID: "admin-project", Result: ResultSuccess},
			}
			ignoreTimes := cmpopts.IgnoreFields(Action{}, "StartTime", "FinishTime")
			if diff := cmp.Diff(want, got, ignoreTimes); diff != "" {
				t.Errorf("actions of the released server (-want +got):\n%s", diff)
			}
			for _, a := range got {
				if a.StartTime.Before(began) || a.FinishTime.Before(a.StartTime) || a.FinishTime.After(finished) ||
					a.StartTime.Location() != time.UTC {
					t.Errorf("action %s: start %v, finish %v; want UTC, %v <= start <= finish <= %v",
						a.RequestID, a.StartTime, a.FinishTime, began, finished)
				}
			}
			failed, err := st.ActionByRequest(ctx, again.UUID, "req-failed")
			if err != nil {
				t.Fatalf("ActionByRequest: %v", err)
			}
			wantFailed := Action{ServerUUID: again.UUID, Action: ActionManage, RequestID: "req-failed", UserID: "u",
				ProjectID: "p", Result: ResultError, Message: "Neutron is unavailable"}
			if diff := cmp.Diff(wantFailed, failed, ignoreTimes); diff != "" {
				t.Errorf("action of the rolled-back adoption (-want +got):\n%s", diff)
			}
			for name, lookup := range map[string][2]string{
				"unknown request":             {srv.UUID, "req-nope"},
				"request of another server":   {again.UUID, "req-adopt"},
				"server that never was there": {"11111111-2222-4333-8444-555555555555", "req-adopt"},
			} {
				if _, err := st.ActionByRequest(ctx, lookup[0], lookup[1]); !errors.Is(err, ErrNotFound) {
					t.Errorf("%s: ActionByRequest = %v, want ErrNotFound", name, err)
				}
			}
			if got, err := st.Actions(ctx, "11111111-2222-4333-8444-555555555555"); err != nil || got == nil || len(got) != 0 {
				t.Errorf("actions of an unknown server = %#v, %v; want an empty list", got, err)
			}
		})
	}
}
