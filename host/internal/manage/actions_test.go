package manage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/notify"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

var ignoreActionTimes = cmpopts.IgnoreFields(Action{}, "StartTime", "FinishTime")

// TestActionsAuditTrail: an adoption and its release leave two actions
// with the caller's user, project and request id (not the server's
// owner), newest first, kept after the release; a failed adoption leaves
// an error action with its fault.
func TestActionsAuditTrail(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	req := request(nodeA)
	req.ProjectID, req.UserID = "tenant-project", "tenant-user" // the server's owner
	req.Caller = Caller{RequestID: "req-adopt", UserID: "admin-user", ProjectID: "admin-project"}
	srv, err := e.svc.Adopt(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.ServerActions(ctx, srv.UUID)
	if err != nil {
		t.Fatal(err)
	}
	adopted := Action{ServerUUID: srv.UUID, Action: store.ActionManage, RequestID: "req-adopt",
		UserID: "admin-user", ProjectID: "admin-project", Result: ResultSuccess}
	if diff := cmp.Diff([]Action{adopted}, got, ignoreActionTimes); diff != "" {
		t.Errorf("actions after the adoption (-want +got):\n%s", diff)
	}
	if got[0].StartTime.After(got[0].FinishTime) || got[0].FinishTime.After(time.Now()) {
		t.Errorf("times: start %v, finish %v", got[0].StartTime, got[0].FinishTime)
	}
	if err := e.svc.Unmanage(ctx, Caller{RequestID: "req-release", UserID: "ops", ProjectID: "ops-project"}, srv.UUID); err != nil {
		t.Fatal(err)
	}
	got, err = e.svc.ServerActions(ctx, srv.UUID)
	if err != nil {
		t.Fatal(err)
	}
	released := Action{ServerUUID: srv.UUID, Action: store.ActionUnmanage, RequestID: "req-release",
		UserID: "ops", ProjectID: "ops-project", Result: ResultSuccess}
	if diff := cmp.Diff([]Action{released, adopted}, got, ignoreActionTimes); diff != "" {
		t.Errorf("actions after the release (-want +got):\n%s", diff)
	}
	one, err := e.svc.ServerAction(ctx, srv.UUID, "req-adopt")
	if diff := cmp.Diff(adopted, one, ignoreActionTimes); err != nil || diff != "" {
		t.Errorf("ServerAction(req-adopt) = %v (-want +got):\n%s", err, diff)
	}
	if _, err := e.svc.ServerAction(ctx, srv.UUID, "req-nope"); !errors.Is(err, ErrActionNotFound) {
		t.Errorf("ServerAction of an unknown request = %v, want ErrActionNotFound", err)
	}
	if _, err := e.svc.ServerActions(ctx, "11111111-2222-4333-8444-555555555555"); !errors.Is(err, ErrServerNotFound) {
		t.Errorf("ServerActions of an unknown server = %v, want ErrServerNotFound", err)
	}

	// A failed adoption: an error action with the fault the client got.
	injected := errors.New("Neutron port bind refused: injected")
	failing := newEnv(t, func(c *Config) {
		c.stepHook = func(_ context.Context, s string) error {
			if s == stepManage {
				return injected
			}
			return nil
		}
	})
	if _, err := failing.svc.Adopt(ctx, req); !errors.Is(err, injected) {
		t.Fatalf("Adopt = %v, want the injected fault", err)
	}
	starts := failing.events.servers(eventManageStart)
	if len(starts) != 1 {
		t.Fatalf("manage.start notifications: %v", starts)
	}
	got, err = failing.svc.ServerActions(ctx, starts[0])
	if err != nil {
		t.Fatal(err)
	}
	want := adopted
	want.ServerUUID, want.Result, want.Message = starts[0], ResultError, injected.Error()
	if diff := cmp.Diff([]Action{want}, got, ignoreActionTimes); diff != "" {
		t.Errorf("actions of the rolled-back adoption (-want +got):\n%s", diff)
	}
}

// TestPlanRefusesANodeClaimedInProgress: a node claimed by an adoption
// still in progress (its intent running, its server building) is refused
// by the plan exactly as a second adoption is, and the plan leaves no
// trace.
func TestPlanRefusesANodeClaimedInProgress(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	rec := newRecord(request(nodeA), time.Now())
	in := store.Intent{ServerUUID: rec.UUID, NodeUUID: nodeA, RequestID: "req-running", Owner: ownerID,
		LeaseExpiresAt: time.Now().Add(time.Hour)}
	if err := e.store.ClaimNode(ctx, rec, in); err != nil {
		t.Fatal(err)
	}
	_, planErr := e.svc.Plan(ctx, request(nodeA))
	_, adoptErr := e.svc.Adopt(ctx, request(nodeA))
	if !errors.Is(planErr, ErrConflict) || adoptErr == nil || planErr.Error() != adoptErr.Error() {
		t.Errorf("Plan = %v, Adopt = %v; want the same conflict", planErr, adoptErr)
	}
	if got, _ := e.store.GetIntent(ctx, rec.UUID); got.RequestID != "req-running" {
		t.Errorf("the running intent changed: %+v", got)
	}
	if n := len(e.events.types()); n != 0 {
		t.Errorf("refusals sent %d notifications", n)
	}
	if got, err := e.store.Actions(ctx, rec.UUID); err != nil || len(got) != 0 {
		t.Errorf("refusals recorded actions: %v, %v", got, err)
	}
}

// TestRepairRecordsActions: what the repair pass and the reconciler finish
// or roll back is recorded with the original request and caller.
func TestRepairRecordsActions(t *testing.T) {
	cases := map[string]struct {
		associated bool
		result     string
		message    string
	}{
		"completed":   {associated: true, result: ResultSuccess},
		"rolled back": {result: ResultError, message: ErrInterrupted.Error()},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			ctx := t.Context()
			rec, in := e.deadIntent(t, nodeA)
			e.beginStep(t, &in, stepManage, manageData{ImageUUID: imageA})
			if tc.associated {
				e.backend.set(func() { e.backend.nodes[nodeA].instance = rec.UUID })
			}
			if _, err := e.svc.Recover(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := e.svc.ServerActions(ctx, rec.UUID)
			want := []Action{{ServerUUID: rec.UUID, Action: store.ActionManage, RequestID: "req-dead",
				UserID: "admin-user", ProjectID: "admin-project", Result: tc.result, Message: tc.message}}
			if diff := cmp.Diff(want, got, ignoreActionTimes); err != nil || diff != "" {
				t.Errorf("actions after the repair: %v (-want +got):\n%s", err, diff)
			}
		})
	}
}

// TestReconciledRollbackSaysWhy: an adoption whose undo failed and which
// the reconciler rolled back later is an error action naming the failure.
func TestReconciledRollbackSaysWhy(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for _, call := range []string{"manage", "unmanage", "states"} {
		e.backend.fail[call] = errors.Join(ErrUnavailable, errors.New("Ironic is down"))
	}
	if _, err := e.svc.Adopt(ctx, request(nodeA)); err == nil {
		t.Fatal("Adopt succeeded with Ironic down")
	}
	srv, err := e.store.ServerByNode(ctx, nodeA)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.store.Actions(ctx, srv.UUID); len(got) != 0 {
		t.Errorf("an adoption still being undone has actions: %v", got)
	}
	e.backend.set(func() { clear(e.backend.fail) })
	if rep, err := e.svc.Reconcile(ctx); err != nil || rep.RolledBack != 1 {
		t.Fatalf("reconcile = %+v, %v", rep, err)
	}
	got, err := e.svc.ServerActions(ctx, srv.UUID)
	if err != nil || len(got) != 1 || got[0].Result != ResultError ||
		!strings.Contains(got[0].Message, "could not be undone at once") || !strings.Contains(got[0].Message, "Ironic is down") {
		t.Errorf("actions after the reconciled rollback = %+v, %v", got, err)
	}
}

// servers lists the server uuids of the recorded events of one type.
func (r *recorder) servers(event string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.events {
		payload, _ := n.Payload.(notify.VersionedObject)
		if data, ok := payload.Data.(map[string]any); ok && n.EventType == event {
			id, _ := data["uuid"].(string)
			out = append(out, id)
		}
	}
	return out
}

// TestPortDeletedDuringAdoption: a Neutron port deleted between the plan
// and its binding is a conflict (409) naming it, rolled back, and the
// error action says so.
func TestPortDeletedDuringAdoption(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.neutron.mu.Lock()
	e.neutron.failBind[portA2+"@"+nodeA] = fmt.Errorf("port %s: %w", portA2, neutron.ErrPortNotFound)
	e.neutron.mu.Unlock()
	_, err := e.svc.Adopt(ctx, request(nodeA))
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), portA2) || !strings.Contains(err.Error(), "deleted during the adoption") {
		t.Fatalf("Adopt = %v; want a conflict naming port %s", err, portA2)
	}
	e.untouched(t, nodeA)
	starts := e.events.servers(eventManageStart)
	if len(starts) != 1 {
		t.Fatalf("manage.start notifications: %v", starts)
	}
	got, aerr := e.svc.ServerActions(ctx, starts[0])
	if aerr != nil || len(got) != 1 || got[0].Result != ResultError || got[0].Message != err.Error() {
		t.Errorf("actions = %+v, %v; want one error with %q", got, aerr, err.Error())
	}
}
