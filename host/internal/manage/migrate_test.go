package manage

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// migrationEnv is a service with two fake Ironics (east, the source; west,
// the target) and a Neutron with the networks "prov" (twice named "dup").
type migrationEnv struct {
	*env
	east, west *fakeIronic
}

const (
	netProv = "11111111-0000-4000-8000-000000000001"
	macM1   = "52:54:00:00:10:01"
)

func newMigrationEnv(t *testing.T) *migrationEnv {
	t.Helper()
	me := &migrationEnv{east: newFakeIronic(), west: newFakeIronic()}
	me.env = newEnv(t, func(c *Config) {
		c.Backends = []Backend{{Name: "east", Driver: me.east.driver()}, {Name: "west", Driver: me.west.driver()}}
		c.Migration = MigrationConfig{MaxConcurrent: 4, EnrollTimeout: 10 * time.Second}
	})
	me.neutron.networks = []neutron.Network{{ID: netProv, Name: "prov"},
		{ID: "22222222-0000-4000-8000-000000000001", Name: "dup"}, {ID: "22222222-0000-4000-8000-000000000002", Name: "dup"}}
	return me
}

func machine(name string) *driver.Machine {
	return &driver.Machine{Name: name, Driver: "fake-hardware", DriverInfo: map[string]any{"user": "admin"},
		Secrets: []string{"password"}, ResourceClass: "gold",
		Ports: []driver.MachinePort{{MAC: macM1, Network: "prov", FixedIPs: []string{"10.0.0.9"}}}}
}

func inventoryRequest(m *driver.Machine, adopt bool) MigrationRequest {
	req := MigrationRequest{Source: MigrationSource{Machine: m}, Target: "west", Secrets: map[string]string{"password": "s3cr3t-Pw"},
		Caller: Caller{RequestID: "req-mig", UserID: "u", ProjectID: "p"}}
	if adopt {
		req.Server = &ServerRequest{Name: m.Name}
	}
	return req
}

// wait polls a migration until it ends.
func (me *migrationEnv) wait(t *testing.T, uuid string) Migration {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, err := me.svc.GetMigration(t.Context(), uuid)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status == store.MigrationDone || m.Status == store.MigrationFailed || m.Status == store.MigrationRolledBack {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("migration %s still %s: %+v", uuid, m.Status, m.Steps)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func stepNames(m Migration) []string {
	var out []string
	for _, st := range m.Steps {
		out = append(out, st.Name+"="+st.Status)
	}
	return out
}

// TestInventoryMigration: the Neutron port, the node enrolled to active and
// protected with the secrets, then adopted as a server; the claim released;
// no verb but create, manage, adopt and protect reached the target.
func TestInventoryMigration(t *testing.T) {
	me := newMigrationEnv(t)
	m, reused, err := me.svc.Migrate(t.Context(), inventoryRequest(machine("db-01"), true))
	if err != nil || reused || m.Status != store.MigrationPending {
		t.Fatalf("Migrate = %+v, %v, %v", m, reused, err)
	}
	got := me.wait(t, m.UUID)
	want := []string{"neutron_port=done", "enroll=done", "adopt=done"}
	if got.Status != store.MigrationDone || !slices.Equal(stepNames(got), want) {
		t.Fatalf("migration = %s %v (%s); want done %v", got.Status, stepNames(got), got.Error, want)
	}
	n := me.west.node(m.NodeUUID)
	if n == nil || n.state != "active" || !n.protected || n.secrets["password"] != "s3cr3t-Pw" || n.instance != got.ServerUUID {
		t.Fatalf("target node = %+v", n)
	}
	srv, err := me.svc.GetServer(t.Context(), got.ServerUUID)
	if err != nil || srv.Backend != "west" || srv.NodeUUID != m.NodeUUID || srv.Name != "db-01" {
		t.Errorf("server = %+v, %v", srv, err)
	}
	if len(me.neutron.created) != 1 || me.neutron.ports[me.neutron.created[0]].MACAddress != macM1 {
		t.Errorf("Neutron ports created = %v", me.neutron.created)
	}
	for _, v := range me.west.verbs {
		if verb, _, _ := strings.Cut(v, " "); !slices.Contains([]string{"create", "manage", "adopt", "protect"}, verb) {
			t.Errorf("the target saw %q", v)
		}
	}
	if n, _ := me.store.MigrationClaims(t.Context()); n != 0 {
		t.Error("a done migration kept its claim on the node")
	}
}

// TestMigrationRefusals: each check a migration makes before creating
// anything, by dry run and by the real call, changing nothing.
func TestMigrationRefusals(t *testing.T) {
	cases := map[string]struct {
		prepare func(*migrationEnv, *MigrationRequest)
		kind    error
		says    string
	}{
		"missing secret": {func(_ *migrationEnv, r *MigrationRequest) { r.Secrets = nil }, ErrInvalidArgument, `no value for driver_info field "password"`},
		"unknown secret": {func(_ *migrationEnv, r *MigrationRequest) { r.Secrets["pasword"] = "x" }, ErrInvalidArgument, `"pasword" is not one of`},
		"unknown network": {func(_ *migrationEnv, r *MigrationRequest) { r.Source.Machine.Ports[0].Network = "nowhere" },
			ErrInvalidArgument, "ports[0].network"},
		"ambiguous network": {func(_ *migrationEnv, r *MigrationRequest) { r.Source.Machine.Ports[0].Network = "dup" },
			ErrInvalidArgument, "several neutron networks"},
		"IP held by another MAC": {func(me *migrationEnv, _ *MigrationRequest) {
			me.neutron.ports["x"] = neutron.Port{ID: "x", NetworkID: netProv, MACAddress: "52:54:00:99:99:99",
				FixedIPs: []neutron.FixedIP{{IPAddress: "10.0.0.9"}}}
		}, ErrConflict, "10.0.0.9"},
		"MAC on another network": {func(me *migrationEnv, _ *MigrationRequest) {
			me.neutron.ports["y"] = neutron.Port{ID: "y", NetworkID: "elsewhere", MACAddress: macM1}
		}, ErrConflict, macM1},
		"unknown target": {func(_ *migrationEnv, r *MigrationRequest) { r.Target = "north" }, ErrInvalidArgument, "north"},
		"unknown image": {func(_ *migrationEnv, r *MigrationRequest) { r.Image = "99999999-0000-4000-8000-000000000000" },
			ErrInvalidArgument, "is not in Glance"},
		"a name the target has": {func(me *migrationEnv, _ *MigrationRequest) {
			me.west.active("55555555-0000-4000-8000-000000000001", "db-01")
		},
			ErrConflict, "a node named db-01 exists"},
		"a MAC the target has": {func(me *migrationEnv, _ *MigrationRequest) {
			me.west.active("55555555-0000-4000-8000-000000000001", "other", macM1)
		}, ErrConflict, "a port with MAC " + macM1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			me := newMigrationEnv(t)
			req := inventoryRequest(machine("db-01"), true)
			tc.prepare(me, &req)
			if _, err := me.svc.PlanMigration(t.Context(), req); !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("dry run = %v; want %v saying %q", err, tc.kind, tc.says)
			}
			if _, _, err := me.svc.Migrate(t.Context(), req); !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("Migrate = %v; want %v saying %q", err, tc.kind, tc.says)
			}
			if len(me.west.verbs) != 0 || len(me.neutron.created) != 0 {
				t.Errorf("a refusal acted: target %v, ports %v", me.west.verbs, me.neutron.created)
			}
			if ms, _ := me.svc.ListMigrations(t.Context(), ListMigrationsOptions{}); len(ms) != 0 {
				t.Errorf("a refusal recorded migrations: %+v", ms)
			}
		})
	}
}

// TestMigrationRollsBack: a failure before the adoption undoes everything
// the migration made; the tombstone lets the reconciler undo a late
// request's node; a failed adoption leaves the node active and protected,
// and a retry adopts it.
func TestMigrationRollsBack(t *testing.T) {
	me := newMigrationEnv(t)
	ctx := t.Context()
	me.west.fail["enroll:enroll"] = driver.NotManageable("n", "manage failed: the BMC at 127.0.0.1:1 refused the connection")
	m, _, err := me.svc.Migrate(ctx, inventoryRequest(machine("db-01"), true))
	if err != nil {
		t.Fatal(err)
	}
	got := me.wait(t, m.UUID)
	if got.Status != store.MigrationRolledBack || !strings.Contains(got.Error, "refused the connection") {
		t.Fatalf("migration = %s (%s) %v", got.Status, got.Error, stepNames(got))
	}
	if len(me.west.nodes) != 0 || len(me.createdLeft()) != 0 {
		t.Errorf("rolled back, yet nodes %v and ports %v remain", me.west.nodes, me.createdLeft())
	}
	// A late create of the same migration lands: the reconciler removes it.
	me.west.mu.Lock()
	me.west.nodes[m.NodeUUID] = &fakeIronicNode{uuid: m.NodeUUID, name: "db-01", state: "enroll", marker: m.UUID}
	me.west.mu.Unlock()
	if _, err := me.svc.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if me.west.node(m.NodeUUID) != nil {
		t.Error("the reconciler left a late node with a rolled-back migration's marker")
	}
	// The key of a rolled-back migration may be used again.
	delete(me.west.fail, "enroll:enroll")
	me.west.fail["manage"] = driver.Unavailable("Ironic at http://west is unreachable")
	req := inventoryRequest(machine("db-01"), true)
	req.IdempotencyKey = "k"
	m2, _, err := me.svc.Migrate(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	got = me.wait(t, m2.UUID)
	n := me.west.node(m2.NodeUUID)
	if got.Status != store.MigrationFailed || n == nil || n.state != "active" || !n.protected || n.instance != "" {
		t.Fatalf("a failed adoption: migration %s (%s), node %+v", got.Status, got.Error, n)
	}
	if _, err := me.svc.CancelMigration(ctx, m2.UUID); !errors.Is(err, ErrBusy) {
		t.Errorf("cancel of a failed migration = %v, want 409", err)
	}
	delete(me.west.fail, "manage")
	if _, err := me.svc.RetryMigration(ctx, Caller{RequestID: "req-retry"}, m2.UUID); err != nil {
		t.Fatal(err)
	}
	got = me.wait(t, m2.UUID)
	if got.Status != store.MigrationDone || got.ServerUUID == "" || me.west.node(m2.NodeUUID).instance != got.ServerUUID {
		t.Errorf("after the retry: %s (%s) %v", got.Status, got.Error, stepNames(got))
	}
}

// TestIdempotencyKey: the same key and request is the same migration; the
// key with another request a 409.
func TestIdempotencyKey(t *testing.T) {
	me := newMigrationEnv(t)
	ctx := t.Context()
	req := inventoryRequest(machine("db-01"), false)
	req.IdempotencyKey = "key"
	first, reused, err := me.svc.Migrate(ctx, req)
	if err != nil || reused {
		t.Fatal(err)
	}
	req.Secrets = map[string]string{"password": "another"} // secrets are not compared
	again, reused, err := me.svc.Migrate(ctx, req)
	if err != nil || !reused || again.UUID != first.UUID {
		t.Errorf("the same request again = %+v, %v, %v; want migration %s", again, reused, err, first.UUID)
	}
	other := inventoryRequest(machine("db-02"), false)
	other.IdempotencyKey = "key"
	if _, _, err := me.svc.Migrate(ctx, other); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), first.UUID) {
		t.Errorf("the key with another request = %v; want 409 naming %s", err, first.UUID)
	}
	me.wait(t, first.UUID)
}

// TestHandoff: hold in the source, enroll in the target, commit (release
// the source), adopt; a failure before the commit leaves the source node
// exactly as it was and nothing in the target.
func TestHandoff(t *testing.T) {
	const nodeX = "33333333-0000-4000-8000-000000000001"
	req := func() MigrationRequest {
		return MigrationRequest{Source: MigrationSource{Backend: "east", NodeUUID: nodeX}, Target: "west",
			NetworkMap: map[string]string{"physnet1": "prov"}, Secrets: map[string]string{"password": "pw"},
			Server: &ServerRequest{Name: "moved"}, Caller: Caller{RequestID: "req-h"}}
	}
	t.Run("moved", func(t *testing.T) {
		me := newMigrationEnv(t)
		me.east.active(nodeX, "x", macM1)
		r := req()
		r.Secrets["redfish_password"] = "not this node's" // the CLI sends a node's whole entry
		m, _, err := me.svc.Migrate(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		got := me.wait(t, m.UUID)
		if secrets := me.west.node(nodeX).secrets; len(secrets) != 1 || secrets["password"] != "pw" {
			t.Errorf("the target got secrets %v; want only the masked field's", secrets)
		}
		want := []string{"hold_source=done", "neutron_port=done", "enroll=done", "release_source=done", "adopt=done"}
		if got.Status != store.MigrationDone || !slices.Equal(stepNames(got), want) || got.NodeUUID != nodeX {
			t.Fatalf("handoff = %s (%s) %v", got.Status, got.Error, stepNames(got))
		}
		if me.east.node(nodeX) != nil || me.west.node(nodeX) == nil || !me.west.node(nodeX).protected {
			t.Errorf("after the handoff: source %+v, target %+v", me.east.node(nodeX), me.west.node(nodeX))
		}
	})
	t.Run("target refuses", func(t *testing.T) {
		me := newMigrationEnv(t)
		me.east.active(nodeX, "x", macM1)
		me.west.fail["enroll:manageable"] = driver.NotManageable(nodeX, "adopt failed")
		m, _, err := me.svc.Migrate(t.Context(), req())
		if err != nil {
			t.Fatal(err)
		}
		got := me.wait(t, m.UUID)
		src := me.east.node(nodeX)
		if got.Status != store.MigrationRolledBack || src == nil || src.maintenance || src.state != "active" || me.west.node(nodeX) != nil {
			t.Errorf("rolled back: %s (%s), source %+v, target %+v", got.Status, got.Error, src, me.west.node(nodeX))
		}
	})
	t.Run("refused before anything", func(t *testing.T) {
		me := newMigrationEnv(t)
		me.east.active(nodeX, "x", macM1)
		me.east.nodes[nodeX].instance = "44444444-0000-4000-8000-000000000000"
		_, _, err := me.svc.Migrate(t.Context(), req())
		if !errors.Is(err, ErrNotManageable) || !strings.Contains(err.Error(), "delete or unmanage the instance in the source cloud first") {
			t.Errorf("an associated source node = %v", err)
		}
		unmapped := req()
		unmapped.NetworkMap = nil
		me.east.nodes[nodeX].instance = ""
		if _, _, err := me.svc.Migrate(t.Context(), unmapped); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), macM1) {
			t.Errorf("an unmapped port = %v; want 400 naming the port", err)
		}
		if me.east.node(nodeX).maintenance || len(me.east.verbs) != 0 {
			t.Errorf("a refusal touched the source: %v", me.east.verbs)
		}
	})
}

// TestInterruptedMigrationResumes: a migration another process began
// carries on from its journal without the secrets when its node exists,
// and is rolled back when it does not (the secrets are kept nowhere).
func TestInterruptedMigrationResumes(t *testing.T) {
	for _, created := range []bool{true, false} {
		name := map[bool]string{true: "node created", false: "node not created"}[created]
		t.Run(name, func(t *testing.T) {
			me := newMigrationEnv(t)
			ctx := t.Context()
			me.west.fail["enroll:enroll"] = errors.New("the process dies here") // first run: stops at manage
			if !created {
				me.west.fail["enroll:create"] = errors.New("the process dies before the node is made")
			}
			me.svc.runner = newMigrationRunner(1, func(*job) {}) // the dead process never ran it
			m, _, err := me.svc.Migrate(ctx, inventoryRequest(machine("db-01"), false))
			if err != nil {
				t.Fatal(err)
			}
			in, err := me.store.GetIntent(ctx, m.UUID)
			if err != nil {
				t.Fatal(err)
			}
			j := me.svc.migrationJobOf(in, mustMigration(t, me, m.UUID), planOf(t, me, m.UUID), map[string]string{"password": "pw"}, Caller{})
			_ = me.svc.migrationSteps(ctx, me.svc.run(j)) // the dead process's partial run
			clear(me.west.fail)

			me.svc.runner = newMigrationRunner(1, me.svc.runMigration)
			in, _ = me.store.GetIntent(ctx, m.UUID)
			if err := me.svc.resumeMigration(ctx, in); err != nil {
				t.Fatal(err)
			}
			got := me.wait(t, m.UUID)
			want := map[bool]string{true: store.MigrationDone, false: store.MigrationRolledBack}[created]
			if got.Status != want {
				t.Errorf("resumed migration = %s (%s) %v; want %s", got.Status, got.Error, stepNames(got), want)
			}
			if !created && (len(me.west.nodes) != 0 || len(me.createdLeft()) != 0) {
				t.Errorf("rolled back, yet nodes %v ports %v", me.west.nodes, me.createdLeft())
			}
		})
	}
}

func mustMigration(t *testing.T, me *migrationEnv, uuid string) store.Migration {
	t.Helper()
	m, err := me.store.GetMigration(t.Context(), uuid)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func planOf(t *testing.T, me *migrationEnv, uuid string) migrationPlan {
	t.Helper()
	var p migrationPlan
	if err := jsonUnmarshalTest(mustMigration(t, me, uuid).Plan, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCancelRollsBack: a migration cancelled while it waits for its node
// undoes what it did.
func TestCancelRollsBack(t *testing.T) {
	me := newMigrationEnv(t)
	ctx := t.Context()
	block := make(chan struct{})
	d := me.west.driver()
	enroll := d.EnrollFunc
	d.EnrollFunc = func(ctx context.Context, req driver.EnrollRequest) (driver.EnrollState, error) {
		st, err := enroll(ctx, req)
		if err == nil && st.ProvisionState == "manageable" {
			<-block
		}
		return st, err
	}
	me.svc.backends = newBackendSet([]Backend{{Name: "east", Driver: me.east.driver()}, {Name: "west", Driver: d}})
	m, _, err := me.svc.Migrate(ctx, inventoryRequest(machine("db-01"), true))
	if err != nil {
		t.Fatal(err)
	}
	for me.west.node(m.NodeUUID) == nil || me.west.node(m.NodeUUID).state != "manageable" {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := me.svc.CancelMigration(ctx, m.UUID); err != nil {
		t.Fatal(err)
	}
	close(block)
	got := me.wait(t, m.UUID)
	if got.Status != store.MigrationRolledBack || !strings.Contains(got.Error, "cancelled") || len(me.west.nodes) != 0 {
		t.Errorf("cancelled migration = %s (%s), nodes %v", got.Status, got.Error, me.west.nodes)
	}
}

func jsonUnmarshalTest(b []byte, v any) error { return json.Unmarshal(b, v) }

// createdLeft are the Neutron ports a migration created that still exist.
func (me *migrationEnv) createdLeft() []string {
	me.neutron.mu.Lock()
	defer me.neutron.mu.Unlock()
	var left []string
	for _, id := range me.neutron.created {
		if _, ok := me.neutron.ports[id]; ok {
			left = append(left, id)
		}
	}
	return left
}

// TestClaimedNodeIsNotListedNorAdopted: while a migration holds a node, it
// is left out of listings (pages stay full) and an adoption of it is a 409.
func TestClaimedNodeIsNotListedNorAdopted(t *testing.T) {
	me := newMigrationEnv(t)
	ctx := t.Context()
	const nodeX = "33333333-0000-4000-8000-000000000001"
	me.east.active(nodeX, "x", macM1)
	// east lists its nodes as the discoverer does.
	d := me.east.driver()
	d.ListFunc = func(_ context.Context, opts driver.ListOptions, send func(driver.Node) error) error {
		ids := []string{"30000000-0000-4000-8000-000000000000", nodeX, "34000000-0000-4000-8000-000000000000"}
		sent := 0
		for _, id := range ids {
			if id <= opts.Marker || (opts.Limit > 0 && sent == opts.Limit) {
				continue
			}
			sent++
			if err := send(driver.Node{UUID: id, ProvisionState: "active", Manageable: true}); err != nil {
				return err
			}
		}
		return nil
	}
	me.svc.backends = newBackendSet([]Backend{{Name: "east", Driver: d}, {Name: "west", Driver: me.west.driver()}})
	me.svc.runner = newMigrationRunner(1, func(*job) {}) // held, not run
	req := MigrationRequest{Source: MigrationSource{Backend: "east", NodeUUID: nodeX}, Target: "west",
		NetworkMap: map[string]string{"*": "prov"}, Secrets: map[string]string{"password": "pw"}}
	if _, _, err := me.svc.Migrate(ctx, req); err != nil {
		t.Fatal(err)
	}
	opts := ListOptions{Backend: "east"}
	opts.Limit = 2
	var listed []string
	if err := me.svc.ListManageable(ctx, opts, func(_ string, n Node) error { listed = append(listed, n.UUID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 || slices.Contains(listed, nodeX) {
		t.Errorf("a page of 2 = %v; want two nodes, not the migrated one", listed)
	}
	areq := request(nodeX)
	areq.Backend = "east"
	if _, err := me.svc.Adopt(ctx, areq); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "being migrated") {
		t.Errorf("adopting a migrated node = %v; want 409 'being migrated'", err)
	}
	if _, err := me.svc.Plan(ctx, areq); !errors.Is(err, ErrConflict) {
		t.Errorf("dry run of that adoption = %v; want 409", err)
	}
}
