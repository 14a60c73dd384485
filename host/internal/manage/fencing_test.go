package manage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// takeOverNow makes another replica take over every intent whose lease
// has expired (the service under test runs with a lease of a millisecond),
// as it would after this replica was paused past its lease.
func (e *env) takeOverNow(t *testing.T) []store.Intent {
	t.Helper()
	time.Sleep(2 * time.Millisecond)
	taken, err := e.store.TakeOver(t.Context(), "replica-2", 1, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return taken
}

// TestFencedRunTouchesNothing: a replica that lost its intent in the
// middle of an adoption (another took it over) neither acts nor undoes:
// the next step is refused before it acts, the client gets 409 "taken
// over by another replica", and what it did stays for the new holder to
// decide (finding 1: the resumed replica undid the other's adoption).
func TestFencedRunTouchesNothing(t *testing.T) {
	for _, after := range []string{stepBind, stepManage} {
		t.Run("taken over after "+after, func(t *testing.T) {
			var e *env
			e = newEnv(t, func(c *Config) {
				c.Lease = time.Millisecond // expired at once: any replica may take it
				c.stepHook = func(ctx context.Context, step string) error {
					if step != after {
						return nil
					}
					if taken := e.takeOverNow(t); len(taken) != 1 {
						t.Errorf("the other replica took %d intents", len(taken))
					}
					if after == stepManage {
						return errors.New("the record failed after Manage") // forces the failure path
					}
					return nil
				}
			})
			_, err := e.svc.Adopt(t.Context(), request(nodeA))
			if !errors.Is(err, ErrTakenOver) || !strings.Contains(err.Error(), "taken over by another replica") {
				t.Fatalf("Adopt after a takeover = %v, want ErrTakenOver", err)
			}
			// Nothing undone: the bound port stays bound, the association
			// stays (when Manage acted), the intent is the other's.
			if got := e.neutron.binding(portA1); got != nodeA+"/baremetal" {
				t.Errorf("port %s binding = %q: the fenced-out replica undid it", portA1, got)
			}
			if after == stepBind && e.neutron.binding(portA2) != "old-host/normal" {
				t.Errorf("port %s was bound after the takeover: %s", portA2, e.neutron.binding(portA2))
			}
			if after == stepBind && e.backend.instanceOf(nodeA) != "" {
				t.Errorf("Manage acted after the takeover")
			}
			srv, err := e.store.ServerByNode(t.Context(), nodeA)
			if err != nil {
				t.Fatal(err)
			}
			in, err := e.store.GetIntent(t.Context(), srv.UUID)
			if err != nil || in.Owner != "replica-2" {
				t.Errorf("intent = %+v, %v; want replica-2's", in, err)
			}
		})
	}
}

// TestLateBindingRepaired: a binding PUT that lands after its adoption was
// rolled back (finding 3) is put back by the reconciler from the port's
// binding tombstone; a later adoption records the real previous binding
// (not the late one), so its unmanage restores it.
func TestLateBindingRepaired(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.neutron.mu.Lock()
	e.neutron.failBind[portA2+"@"+nodeA] = fmt.Errorf("%w: Neutron timed out", neutron.ErrUnavailable)
	e.neutron.mu.Unlock()
	if _, err := e.svc.Adopt(ctx, request(nodeA)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Adopt = %v, want unavailable", err)
	}
	e.untouched(t, nodeA)
	// The held PUT lands now.
	if _, err := e.neutron.Bind(ctx, portA2, nodeA, vnicBaremetal); err != nil {
		t.Fatal(err)
	}
	rep, err := e.svc.Reconcile(ctx)
	if err != nil || rep.BindingsRepaired != 1 {
		t.Fatalf("reconcile = %+v, %v; want one binding repaired", rep, err)
	}
	e.untouched(t, nodeA)
	if rep, _ := e.svc.Reconcile(ctx); rep.BindingsRepaired != 0 {
		t.Errorf("a second pass repaired %d bindings", rep.BindingsRepaired)
	}

	// The late PUT lands again, and this time the node is adopted after
	// it: the binding before us is still old-host's.
	if _, err := e.neutron.Bind(ctx, portA2, nodeA, vnicBaremetal); err != nil {
		t.Fatal(err)
	}
	srv, err := e.svc.Adopt(ctx, request(nodeA))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Unmanage(ctx, Caller{RequestID: "req-2"}, srv.UUID); err != nil {
		t.Fatal(err)
	}
	e.untouched(t, nodeA)
}

// TestBindingNeverRecordsItsOwnNode: a port already bound to the node by
// nobody we know (no tombstone) is recorded as unbound before us, never as
// bound to the node.
func TestBindingNeverRecordsItsOwnNode(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.neutron.Bind(ctx, portA1, nodeA, vnicBaremetal); err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Plan(ctx, request(nodeA))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range p.Bindings {
		if b.PortID == portA1 && (b.PrevHostID != "" || b.PrevVNICType != vnicNormal) {
			t.Errorf("previous binding of a port bound to its own node = %q/%q, want unbound", b.PrevHostID, b.PrevVNICType)
		}
	}
}

// TestRestoredBindingOfALiveServerRebound: a port of a live server whose
// binding a fenced-out replica restored (what finding 1 left) is bound to
// the node again by the reconciler.
func TestRestoredBindingOfALiveServerRebound(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.svc.Adopt(ctx, request(nodeA)); err != nil {
		t.Fatal(err)
	}
	// A replica that had lost its intent restores the old bindings.
	for _, p := range []struct{ id, host string }{{portA1, ""}, {portA2, "old-host"}} {
		if _, err := e.neutron.Bind(ctx, p.id, p.host, vnicNormal); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := e.svc.Reconcile(ctx)
	if err != nil || rep.BindingsRepaired != 2 {
		t.Fatalf("reconcile = %+v, %v; want two bindings repaired", rep, err)
	}
	for _, p := range []string{portA1, portA2} {
		if got := e.neutron.binding(p); got != nodeA+"/baremetal" {
			t.Errorf("port %s binding = %q, want bound to the node", p, got)
		}
	}
}

// TestUnmanageLeavesAForeignNodesPorts: a server whose node belongs to
// another instance now is released without touching the node or its
// Neutron ports (finding 4), and the reconciler leaves them too.
func TestUnmanageLeavesAForeignNodesPorts(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	srv, err := e.svc.Adopt(ctx, request(nodeA))
	if err != nil {
		t.Fatal(err)
	}
	const foreign = "f0f0f0f0-0000-4000-8000-000000000000"
	e.backend.set(func() { e.backend.nodes[nodeA].instance = foreign })
	if err := e.svc.Unmanage(ctx, Caller{RequestID: "req-2"}, srv.UUID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Reconcile(t); err != nil {
		t.Fatal(err)
	}
	if got := e.backend.instanceOf(nodeA); got != foreign {
		t.Errorf("node instance = %q, want the foreign %s", got, foreign)
	}
	for _, p := range []string{portA1, portA2} {
		if got := e.neutron.binding(p); got != nodeA+"/baremetal" {
			t.Errorf("port %s binding = %q: the release changed the new owner's binding", p, got)
		}
	}
	if _, err := e.svc.GetServer(ctx, srv.UUID); !errors.Is(err, ErrServerNotFound) {
		t.Errorf("server after unmanage: %v", err)
	}
}

// TestNoTakeoverWithoutTheHostLock: while the host lock is lost nothing is
// taken over, not even this replica's own earlier starts' intents.
func TestNoTakeoverWithoutTheHostLock(t *testing.T) {
	held := false
	e := newEnv(t, func(c *Config) { c.HostLockHeld = func() bool { return held } })
	_, in := e.deadIntent(t, nodeA)
	if rep, err := e.svc.Recover(t.Context()); err != nil || len(rep.Intents) != 0 {
		t.Fatalf("Recover without the lock = %+v, %v; want nothing taken", rep, err)
	}
	held = true
	if rep, err := e.svc.Recover(t.Context()); err != nil || rep.RolledBack != 1 {
		t.Fatalf("Recover with the lock = %+v, %v; want the dead intent rolled back", rep, err)
	}
	if _, err := e.store.GetIntent(t.Context(), in.ServerUUID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("intent after the repair: %v", err)
	}
}

// Reconcile runs one reconciler pass.
func (e *env) Reconcile(t *testing.T) (ReconcileReport, error) {
	t.Helper()
	return e.svc.Reconcile(t.Context())
}

// TestUnmanageWithNeutronDownIs503: the node is freed at once; the ports'
// bindings wait for Neutron, which is an unavailable service (503 with its
// name, as an adoption says), never an internal error; the reconciler then
// finishes the release.
func TestUnmanageWithNeutronDownIs503(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	srv, err := e.svc.Adopt(ctx, request(nodeA))
	if err != nil {
		t.Fatal(err)
	}
	e.neutron.setDown(true)
	err = e.svc.Unmanage(ctx, Caller{RequestID: "req-2"}, srv.UUID)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "Neutron") || !strings.Contains(err.Error(), "reconciler") {
		t.Fatalf("Unmanage with Neutron down = %v; want unavailable, naming Neutron and the reconciler", err)
	}
	if got := e.backend.instanceOf(nodeA); got != "" {
		t.Errorf("node instance = %q, want freed", got)
	}
	e.neutron.setDown(false)
	if _, err := e.Reconcile(t); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{portA1, portA2} {
		if got := e.neutron.binding(p); got == nodeA+"/baremetal" {
			t.Errorf("port %s binding = %q after the reconciler, want its prior one", p, got)
		}
	}
	if _, err := e.svc.GetServer(ctx, srv.UUID); !errors.Is(err, ErrServerNotFound) {
		t.Errorf("server after the reconciled release: %v", err)
	}
}
