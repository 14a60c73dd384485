package manage

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

func TestAdoptBindsPortsAndRecords(t *testing.T) {
	e := newEnv(t)
	srv, err := e.svc.Adopt(t.Context(), request(nodeA))
	if err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	if srv.Status != StatusActive || srv.ImageUUID != imageA || srv.NodeName != "node-aacd" || srv.PowerState != "power on" {
		t.Errorf("server = %+v", srv)
	}
	want := map[string][]Address{netA: {{Addr: "10.0.0.5", Type: "fixed"}}}
	if diff := cmp.Diff(want, srv.Addresses); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
	if got := e.backend.instanceOf(nodeA); got != srv.UUID {
		t.Errorf("node instance = %q, want %s", got, srv.UUID)
	}
	for _, p := range []string{portA1, portA2} {
		if got := e.neutron.binding(p); got != nodeA+"/baremetal" {
			t.Errorf("port %s binding = %q", p, got)
		}
	}
	if _, err := e.store.GetIntent(t.Context(), srv.UUID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("intent left after a finished adoption: %v", err)
	}
	if diff := cmp.Diff([]string{eventManageStart, eventManageEnd}, e.events.types()); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}

	// Release: the node is free, the ports have their old bindings back.
	if err := e.svc.Unmanage(t.Context(), Caller{RequestID: "req-2"}, srv.UUID); err != nil {
		t.Fatalf("Unmanage: %v", err)
	}
	e.untouched(t, nodeA)
	if diff := cmp.Diff([]string{eventManageStart, eventManageEnd, eventUnmanageStart, eventUnmanageEnd}, e.events.types()); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
}

// TestFaultAfterEachStep: a failure injected right after each step has
// acted leaves Ironic, Neutron and the store exactly as before.
func TestFaultAfterEachStep(t *testing.T) {
	for _, step := range []string{stepBind, stepManage} {
		t.Run(step, func(t *testing.T) {
			injected := errors.New("injected fault after " + step)
			e := newEnv(t, func(c *Config) {
				c.stepHook = func(_ context.Context, s string) error {
					if s == step {
						return injected
					}
					return nil
				}
			})
			if _, err := e.svc.Adopt(t.Context(), request(nodeA)); !errors.Is(err, injected) {
				t.Fatalf("Adopt = %v, want the injected fault", err)
			}
			e.untouched(t, nodeA)
			if diff := cmp.Diff([]string{eventManageStart, eventManageError}, e.events.types()); diff != "" {
				t.Errorf("notifications (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAdoptRefusals(t *testing.T) {
	cases := map[string]struct {
		prepare  func(*env)
		wantKind error
		wantMsg  string
	}{
		"MAC mismatch": {
			prepare: func(e *env) {
				p := e.neutron.ports[portA1]
				p.MACAddress = "52:54:00:00:00:01"
				e.neutron.ports[portA1] = p
			},
			wantKind: ErrConflict, wantMsg: "has MAC address 52:54:00:00:00:01, but node",
		},
		"Neutron down": {
			prepare:  func(e *env) { e.neutron.down = true },
			wantKind: ErrUnavailable, wantMsg: "Neutron at http://127.0.0.1:9696",
		},
		"Glance down": {
			prepare:  func(e *env) { e.glance.down = true },
			wantKind: ErrUnavailable, wantMsg: "Glance at http://127.0.0.1:9292",
		},
		"node not manageable": {
			prepare: func(e *env) {
				e.backend.nodes[nodeA].node.Manageable = false
				e.backend.nodes[nodeA].node.Reason = "node is in maintenance"
			},
			wantKind: ErrNotManageable, wantMsg: "node is in maintenance",
		},
		"node changed between check and association": {
			prepare: func(e *env) {
				d := e.svc.backends.list[0].Driver.(*driverWrapper)
				d.afterManage = func(n *driver.Node) { n.Manageable, n.Reason = false, "node is in maintenance" }
			},
			wantKind: ErrNotManageable, wantMsg: "node is in maintenance",
		},
		"node unknown": {
			prepare:  func(e *env) { e.backend.nodes[nodeA].gone = true },
			wantKind: ErrNodeNotFound,
		},
		"association conflict": {
			prepare:  func(e *env) { e.backend.fail["manage"] = driver.Conflict("node is associated with instance x") },
			wantKind: ErrConflict,
		},
		"late association then timeout": {
			prepare:  func(e *env) { e.backend.lateManage = context.DeadlineExceeded },
			wantKind: context.DeadlineExceeded,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.Backends[0].Driver = &driverWrapper{Full: c.Backends[0].Driver} })
			tc.prepare(e)
			_, err := e.svc.Adopt(t.Context(), request(nodeA))
			if !errors.Is(err, tc.wantKind) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Adopt = %v, want %v containing %q", err, tc.wantKind, tc.wantMsg)
			}
			e.untouched(t, nodeA)
		})
	}
}

// driverWrapper changes what Manage answers, for the "changed since it
// was validated" case.
type driverWrapper struct {
	driver.Full
	afterManage func(*driver.Node)
}

func (d *driverWrapper) Manage(ctx context.Context, req driver.ManageRequest) (driver.Node, error) {
	n, err := d.Full.Manage(ctx, req)
	if err == nil && d.afterManage != nil {
		d.afterManage(&n)
	}
	return n, err
}

func TestAdoptClaimIsOnce(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.Adopt(t.Context(), request(nodeA)); err != nil {
		t.Fatal(err)
	}
	n := len(e.events.types())
	_, err := e.svc.Adopt(t.Context(), request(nodeA))
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "already managed by another server") {
		t.Errorf("second Adopt = %v", err)
	}
	if len(e.events.types()) != n {
		t.Errorf("a refused claim sent notifications: %v", e.events.types()[n:])
	}
}

// TestUndoFailsThenReconciled: the undo of a failed adoption fails
// (Ironic down); the intent is kept, the server reads building, release is
// refused as "being repaired"; once Ironic is back the reconciler rolls it
// back.
func TestUndoFailsThenReconciled(t *testing.T) {
	e := newEnv(t)
	for _, call := range []string{"manage", "unmanage", "states"} {
		e.backend.fail[call] = driver.Unavailable("Ironic is down")
	}
	if _, err := e.svc.Adopt(t.Context(), request(nodeA)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Adopt = %v, want unavailable", err)
	}
	srv, err := e.store.ServerByNode(t.Context(), nodeA)
	if err != nil || srv.Status != store.StatusBuilding {
		t.Fatalf("server after a failed undo = %+v, %v; want it kept, building", srv, err)
	}
	in, err := e.store.GetIntent(t.Context(), srv.UUID)
	if err != nil || in.State != store.IntentRetry || !strings.Contains(in.LastError, "Ironic is down") {
		t.Fatalf("intent = %+v, %v", in, err)
	}
	if err := e.svc.Unmanage(t.Context(), Caller{}, srv.UUID); !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "being repaired") {
		t.Errorf("Unmanage while repairing = %v", err)
	}
	// Still down: the reconciler leaves it.
	rep, _ := e.svc.Reconcile(t.Context())
	if rep.Left != 1 {
		t.Errorf("reconcile with Ironic down: %+v", rep)
	}
	e.backend.set(func() { clear(e.backend.fail) })
	rep, err = e.svc.Reconcile(t.Context())
	if err != nil || rep.RolledBack != 1 {
		t.Fatalf("reconcile = %+v, %v", rep, err)
	}
	e.untouched(t, nodeA)
	if _, err := e.store.GetIntent(t.Context(), srv.UUID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("intent after the rollback: %v", err)
	}
}

// TestRecoverAfterCrash: intents a dead process left at each point are
// completed (the node names the server) or rolled back.
func TestRecoverAfterCrash(t *testing.T) {
	cases := map[string]struct {
		steps      []string // steps the dead process had started
		associated bool     // whether its Manage reached the backend
		bound      bool     // whether its binds reached Neutron
		want       string   // "adopted" or "untouched"
	}{
		"after the claim":              {want: "untouched"},
		"bind started, not acted":      {steps: []string{stepBind}, want: "untouched"},
		"bind acted":                   {steps: []string{stepBind, stepBind}, bound: true, want: "untouched"},
		"manage started, not acted":    {steps: []string{stepBind, stepBind, stepManage}, bound: true, want: "untouched"},
		"manage acted, not recorded":   {steps: []string{stepBind, stepBind, stepManage}, bound: true, associated: true, want: "adopted"},
		"no ports, manage acted":       {steps: []string{stepManage}, associated: true, want: "adopted"},
		"manage started, never landed": {steps: []string{stepManage}, want: "untouched"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			ctx := t.Context()
			// What the dead process had done, through the store and the fakes.
			rec, in := e.deadIntent(t, nodeA)
			ports := []PortBinding{
				{PortID: portA1, NetworkID: netA, PrevVNICType: "normal"},
				{PortID: portA2, NetworkID: netA, PrevHostID: "old-host", PrevVNICType: "normal"},
			}
			bi := 0
			for _, s := range tc.steps {
				var data any
				switch s {
				case stepBind:
					data = ports[bi]
					bi++
				case stepManage:
					data = manageData{ImageUUID: imageA, NodeName: "node-aacd"}
				}
				e.beginStep(t, &in, s, data)
			}
			if tc.bound {
				for _, p := range ports {
					if _, err := e.neutron.Bind(ctx, p.PortID, nodeA, vnicBaremetal); err != nil {
						t.Fatal(err)
					}
				}
			}
			if tc.associated {
				e.backend.set(func() { e.backend.nodes[nodeA].instance = rec.UUID })
			}

			// The dry run (mogan-api recover --dry-run) says what the
			// pass will do, and changes nothing.
			before, err := e.store.GetIntent(ctx, rec.UUID)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := e.svc.PlanRecovery(ctx)
			if err != nil || len(plan) != 1 {
				t.Fatalf("PlanRecovery = %+v, %v", plan, err)
			}
			after, err := e.store.GetIntent(ctx, rec.UUID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("the dry run changed the intent (-before +after):\n%s", diff)
			}
			if e.backend.instanceOf(nodeA) != map[bool]string{true: rec.UUID}[tc.associated] {
				t.Errorf("the dry run changed the node's association")
			}

			rep, err := e.svc.Recover(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Intents) != 1 || rep.Intents[0].Outcome != plan[0].Outcome {
				t.Errorf("the dry run said %q, the pass did %+v", plan[0].Outcome, rep.Intents)
			}
			if _, err := e.store.GetIntent(ctx, rec.UUID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("intent left after recovery: %v", err)
			}
			switch tc.want {
			case "adopted":
				if rep.Completed != 1 {
					t.Errorf("report %+v, want one completed", rep)
				}
				srv, err := e.svc.GetServer(ctx, rec.UUID)
				if err != nil || srv.Status != StatusActive || srv.ImageUUID != imageA || srv.NodeName != "node-aacd" {
					t.Fatalf("server = %+v, %v", srv, err)
				}
				if e.backend.instanceOf(nodeA) != rec.UUID {
					t.Errorf("node not associated with the completed server")
				}
				if tc.bound && e.neutron.binding(portA1) != nodeA+"/baremetal" {
					t.Errorf("port binding = %s", e.neutron.binding(portA1))
				}
			case "untouched":
				if rep.RolledBack != 1 {
					t.Errorf("report %+v, want one rolled back", rep)
				}
				e.untouched(t, nodeA)
			}
		})
	}
}

// TestLateClaimReleased: a Manage that lands after the host rolled back
// (its rollback's Unmanage ran first) is found through the tombstone and
// released by the reconciler; the node is listed again.
func TestLateClaimReleased(t *testing.T) {
	e := newEnv(t)
	e.backend.fail["manage"] = context.DeadlineExceeded // the PATCH has not landed yet
	if _, err := e.svc.Adopt(t.Context(), request(nodeA)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Adopt = %v", err)
	}
	ts, err := e.store.Tombstones(t.Context(), time.Now().Add(-time.Hour), 10)
	if err != nil || len(ts) != 1 {
		t.Fatalf("tombstones = %v, %v", ts, err)
	}
	// Now the late PATCH lands, for the rolled-back uuid.
	e.backend.set(func() { e.backend.nodes[nodeA].instance = ts[0].ServerUUID })
	var listed []string
	list := func() {
		listed = nil
		if err := e.svc.ListManageable(t.Context(), ListOptions{}, func(_ string, n Node) error {
			listed = append(listed, n.UUID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	list()
	if len(listed) != 0 {
		t.Fatalf("claimed node listed: %v", listed)
	}
	rep, err := e.svc.Reconcile(t.Context())
	if err != nil || rep.LateReleased != 1 {
		t.Fatalf("reconcile = %+v, %v", rep, err)
	}
	list()
	if len(listed) != 1 {
		t.Errorf("node not listed again after the reconciler: %v", listed)
	}
}

func TestSyncServers(t *testing.T) {
	e := newEnv(t)
	srv, err := e.svc.Adopt(t.Context(), request(nodeA))
	if err != nil {
		t.Fatal(err)
	}
	e.backend.set(func() { e.backend.nodes[nodeA].node.PowerState = "power off" })
	if rep, err := e.svc.Reconcile(t.Context()); err != nil || rep.ServersChanged != 1 {
		t.Fatalf("reconcile = %+v, %v", rep, err)
	}
	if got, _ := e.svc.GetServer(t.Context(), srv.UUID); got.Status != StatusStopped || got.PowerState != "power off" {
		t.Errorf("after power off: %s/%s", got.Status, got.PowerState)
	}
	e.backend.set(func() { e.backend.nodes[nodeA].gone = true })
	if _, err := e.svc.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.GetServer(t.Context(), srv.UUID)
	if got.Status != StatusError || !strings.Contains(got.Fault, "no longer exists") {
		t.Errorf("after the node vanished: %s %q", got.Status, got.Fault)
	}
}

func TestListEnrichment(t *testing.T) {
	e := newEnv(t)
	url := nodeOf("bbbbbbbb-d670-409e-95aa-ecfcfb94fee2")
	url.ImageSource = "http://images.example/disk.qcow2"
	missing := nodeOf("cccccccc-d670-409e-95aa-ecfcfb94fee2")
	missing.ImageSource = "11111111-2222-4333-8444-555555555555"
	missing.Ports[0].NeutronPortID = "99999999-2222-4333-8444-555555555555"
	e.backend = newBackend(nodeOf(nodeA), url, missing)
	e.setDriver(e.backend.driver())
	got := map[string]Node{}
	if err := e.svc.ListManageable(t.Context(), ListOptions{}, func(_ string, n Node) error { got[n.UUID] = n; return nil }); err != nil {
		t.Fatal(err)
	}
	if got[nodeA].ImageSource != imageA || got[nodeA].Ports[0].NeutronPortID != portA1 {
		t.Errorf("known image and port: %+v", got[nodeA])
	}
	if got[url.UUID].ImageSource != "" {
		t.Errorf("URL image source = %q, want null", got[url.UUID].ImageSource)
	}
	if got[missing.UUID].ImageSource != "" || got[missing.UUID].Ports[0].NeutronPortID != "" || got[missing.UUID].Portgroups[0].NeutronPortID != portA2 {
		t.Errorf("unknown image and port: %+v", got[missing.UUID])
	}
	if e.glance.lookups != 1 || e.neutron.lookups != 1 {
		t.Errorf("lookups: glance %d, neutron %d; want one batch each", e.glance.lookups, e.neutron.lookups)
	}
	e.neutron.down = true
	err := e.svc.ListManageable(t.Context(), ListOptions{}, func(string, Node) error { return nil })
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("listing with Neutron down = %v, want unavailable", err)
	}
}

// TestPlanChangesNothing: a plan makes the checks, describes the server an
// adoption would record, and writes nowhere; Adopt then records that
// server; a second plan is refused as the second adoption would be.
func TestPlanChangesNothing(t *testing.T) {
	e := newEnv(t)
	p, err := e.svc.Plan(t.Context(), request(nodeA))
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	e.untouched(t, nodeA)
	if len(e.events.types()) != 0 {
		t.Errorf("a plan sent notifications: %v", e.events.types())
	}
	if len(p.Bindings) != 2 || p.ImageUUID != imageA || p.Server.UUID != "" || p.Server.Status != StatusActive {
		t.Errorf("plan = %+v", p)
	}
	srv, err := e.svc.Adopt(t.Context(), request(nodeA))
	if err != nil {
		t.Fatal(err)
	}
	want := p.Server
	want.UUID, want.CreatedAt, want.LaunchedAt, want.UpdatedAt = srv.UUID, srv.CreatedAt, srv.LaunchedAt, srv.UpdatedAt
	if diff := cmp.Diff(want, srv); diff != "" {
		t.Errorf("adopted server differs from the plan (-plan +adopted):\n%s", diff)
	}
	if _, err := e.svc.Plan(t.Context(), request(nodeA)); !errors.Is(err, ErrConflict) {
		t.Errorf("Plan of an adopted node = %v, want the conflict Adopt gives", err)
	}
}

// TestClientLeavingAfterManageStillRecords: once the driver associated
// the node, the adoption is recorded even if the client has gone.
func TestClientLeavingAfterManageStillRecords(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	e := newEnv(t, func(c *Config) {
		c.stepHook = func(_ context.Context, step string) error {
			if step == stepManage {
				cancel()
			}
			return nil
		}
	})
	srv, err := e.svc.Adopt(ctx, request(nodeA))
	if err != nil {
		t.Fatalf("Adopt with the client gone after Manage: %v", err)
	}
	if got, err := e.svc.GetServer(t.Context(), srv.UUID); err != nil || got.Status != StatusActive {
		t.Errorf("server = %+v, %v", got, err)
	}
	if e.backend.instanceOf(nodeA) != srv.UUID {
		t.Errorf("node not associated with the recorded server")
	}
}

// TestKeepLeasesRenews: the intents a replica works on stay its own while
// it renews their leases, so no other replica takes them over; one it holds
// but gave up on (its run could not reach the database to undo or mark
// it) is not renewed, so its lease runs out and a repair takes it.
func TestKeepLeasesRenews(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Lease = 600 * time.Millisecond })
	claim := func(node string) store.Server {
		rec := newRecord(request(node), time.Now())
		in := store.Intent{ServerUUID: rec.UUID, NodeUUID: node, Owner: ownerID, OwnerEpoch: thisStart,
			LeaseExpiresAt: time.Now().Add(600 * time.Millisecond)}
		if err := e.store.ClaimNode(t.Context(), rec, in); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	working := claim(nodeA)
	abandoned := claim("bbbbbbbb-d670-409e-95aa-ecfcfb94fee2")
	defer e.svc.working.track(working.UUID)()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { e.svc.KeepLeases(ctx); close(done) }()
	time.Sleep(1500 * time.Millisecond) // more than two leases
	taken, err := e.store.TakeOver(t.Context(), "other-replica", 1, time.Now().Add(time.Minute))
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if len(taken) != 1 || taken[0].ServerUUID != abandoned.UUID {
		t.Errorf("another replica took %+v; want only the abandoned intent %s", taken, abandoned.UUID)
	}
	got, err := e.store.GetIntent(t.Context(), working.UUID)
	if err != nil || !got.LeaseExpiresAt.After(time.Now()) || got.Owner != ownerID {
		t.Errorf("intent worked on = %+v, %v; want this replica's, renewed into the future", got, err)
	}
}

// TestAdoptOfADriverThatCannotAdoptLeavesNothing: a driver whose Manage
// and Unmanage are Unimplemented (one that does not say so in its
// capabilities) gets its adoption rolled back whole, ports restored and
// no server left building: an Unmanage that is not implemented has
// nothing to release. The reconciler used to retry that undo forever.
func TestAdoptOfADriverThatCannotAdoptLeavesNothing(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		d := c.Backends[0].Driver.(*drivertest.FuncDriver)
		d.ManageFunc, d.UnmanageFunc = nil, nil // the SDK's answer: Unimplemented
	})
	if _, err := e.svc.Adopt(t.Context(), request(nodeA)); !errors.Is(err, ErrNotImplemented) {
		t.Fatalf("Adopt = %v, want not implemented", err)
	}
	e.untouched(t, nodeA)
}
