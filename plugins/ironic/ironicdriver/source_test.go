package ironicdriver

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// The handoff tests' source nodes: machines running in the test Ironic as
// an adoption outside any cloud leaves them, each made as a test needs it.

// sourceRC is the resource class of the source nodes: never listRC, whose
// listing other tests compare exactly.
const sourceRC = "source"

// sourceState is what a source node is left as once active.
type sourceState string

const (
	sourceActive      sourceState = "active"      // unassociated, out of maintenance, unprotected
	sourceAssociated  sourceState = "associated"  // instance_uuid set
	sourceMaintenance sourceState = "maintenance" // in maintenance, someone else's reason
	sourceProtected   sourceState = "protected"   // protected, with a reason
	sourceManageable  sourceState = "manageable"  // never made active
)

// The reasons a source node in maintenance or protected has.
const (
	theirMaintenance = "BMC firmware upgrade"
	theirProtection  = "pinned by the tenant"
)

// sourcePort is a port of a source node; Portgroup indexes the node's
// portgroups (-1: none); InternalVIF goes to internal_info (written in
// Ironic's database, as its conductor does), ExtraVIF to extra.
type sourcePort struct {
	MAC, PhysicalNetwork  string
	PXE                   *bool
	Portgroup             int
	InternalVIF, ExtraVIF string
}

type sourcePortgroup struct {
	Name, MAC, Mode       string
	InternalVIF, ExtraVIF string
}

// source is a source node and everything it was made with.
type source struct {
	UUID, Name   string
	State        sourceState
	DriverInfo   map[string]any
	Properties   map[string]any
	Traits       []string
	Image        string
	Owner        string
	Lessee       string
	InstanceUUID string
	Ports        []sourcePort
	Portgroups   []sourcePortgroup
}

// richSource describes a machine with all a node can say: masked and plain
// driver_info, properties with Ironic's vendor, traits, an owner and a
// lessee, two bonded ports (the bond's VIF in internal_info and another in
// extra, the bond's MAC its first member's), a port with its VIF in
// extra, one with it in internal_info and one with none.
func richSource(state sourceState) *source {
	id := uuid.NewString()
	yes, no := true, false
	macs := []string{randomMAC(), randomMAC(), randomMAC(), randomMAC(), randomMAC()}
	return &source{
		UUID: id, Name: "source-" + id[:8], State: state,
		DriverInfo: map[string]any{
			"fake_address":  "10.1.2.3",
			"fake_username": "admin",
			"fake_password": "hunter2-" + id[:8],
			"fake_port":     float64(623),
			// A value oslo.utils masks in place.
			"fake_kernel_append": "console=ttyS0 password=s3cret-" + id[:8],
		},
		Properties: map[string]any{"cpus": float64(16), "memory_mb": float64(65536), "cpu_arch": "x86_64", "vendor": "fake-vendor"},
		Traits:     []string{"CUSTOM_GOLD", "HW_CPU_X86_AVX2"},
		Image:      uuid.NewString(),
		Owner:      "f978ef48d4af4dadbeece6174309bc71",
		Lessee:     "0a7c2f9b1e5d4c3b8a6f4e2d1c0b9a87",
		Portgroups: []sourcePortgroup{{Name: "bond0-" + id[:8], MAC: macs[0], Mode: "802.3ad", InternalVIF: uuid.NewString(), ExtraVIF: uuid.NewString()}},
		Ports: []sourcePort{
			{MAC: macs[0], PhysicalNetwork: "physnet1", PXE: &yes, Portgroup: 0},
			{MAC: macs[1], PhysicalNetwork: "physnet1", PXE: &no, Portgroup: 0},
			{MAC: macs[2], PhysicalNetwork: "physnet2", PXE: &no, Portgroup: -1, ExtraVIF: uuid.NewString()},
			{MAC: macs[3], PXE: &no, Portgroup: -1, InternalVIF: uuid.NewString(), ExtraVIF: uuid.NewString()},
			{MAC: macs[4], PXE: &no, Portgroup: -1},
		},
	}
}

// bareSource is a machine with nothing but a name and a driver.
func bareSource(state sourceState) *source {
	id := uuid.NewString()
	return &source{UUID: id, Name: "source-" + id[:8], State: state}
}

// make creates s in the test Ironic and takes it to its state.
func (s *source) make(t *testing.T) *source {
	t.Helper()
	f := ironicEnv(t).ironic.Fixture()
	req := func(method, path string, body, out any) {
		t.Helper()
		if err := f.Request(t.Context(), method, path, body, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	node := map[string]any{
		"uuid": s.UUID, "name": s.Name, "driver": "fake-hardware", "resource_class": sourceRC,
		"driver_info": s.DriverInfo, "properties": s.Properties,
	}
	if s.Image != "" {
		node["instance_info"] = map[string]any{"image_source": s.Image}
	}
	req(http.MethodPost, "/v1/nodes", node, nil)
	if s.Owner != "" {
		// Ironic's noauth caller is project scoped: it may create a node
		// with no owner but its own, and give it one after.
		req(http.MethodPatch, "/v1/nodes/"+s.UUID, []map[string]any{
			{"op": "add", "path": "/owner", "value": s.Owner}, {"op": "add", "path": "/lessee", "value": s.Lessee},
		}, nil)
	}
	if len(s.Traits) > 0 {
		req(http.MethodPut, "/v1/nodes/"+s.UUID+"/traits", map[string]any{"traits": s.Traits}, nil)
	}
	pgUUIDs := make([]string, len(s.Portgroups))
	for i, pg := range s.Portgroups {
		var out struct{ UUID string }
		req(http.MethodPost, "/v1/portgroups", map[string]any{
			"node_uuid": s.UUID, "name": pg.Name, "address": pg.MAC, "mode": pg.Mode, "extra": vifExtra(pg.ExtraVIF),
		}, &out)
		pgUUIDs[i] = out.UUID
		setInternalVIF(t, "portgroups", out.UUID, pg.InternalVIF)
	}
	for _, p := range s.Ports {
		body := map[string]any{"node_uuid": s.UUID, "address": p.MAC, "extra": vifExtra(p.ExtraVIF)}
		if p.PXE != nil {
			body["pxe_enabled"] = *p.PXE
		}
		if p.PhysicalNetwork != "" {
			body["physical_network"] = p.PhysicalNetwork
		}
		if p.Portgroup >= 0 {
			body["portgroup_uuid"] = pgUUIDs[p.Portgroup]
		}
		var out struct{ UUID string }
		req(http.MethodPost, "/v1/ports", body, &out)
		setInternalVIF(t, "ports", out.UUID, p.InternalVIF)
	}
	provisionTo(t, s.UUID, "manage", "manageable")
	if s.State == sourceManageable {
		return s
	}
	provisionTo(t, s.UUID, "adopt", "active")
	req(http.MethodPut, "/v1/nodes/"+s.UUID+"/states/power", map[string]string{"target": "power on"}, nil)
	waitPower(t, s.UUID, "power on")
	switch s.State {
	case sourceAssociated:
		s.InstanceUUID = uuid.NewString()
		req(http.MethodPatch, "/v1/nodes/"+s.UUID, []map[string]any{{"op": "add", "path": "/instance_uuid", "value": s.InstanceUUID}}, nil)
	case sourceMaintenance:
		req(http.MethodPut, "/v1/nodes/"+s.UUID+"/maintenance", map[string]string{"reason": theirMaintenance}, nil)
	case sourceProtected:
		req(http.MethodPatch, "/v1/nodes/"+s.UUID, []map[string]any{
			{"op": "add", "path": "/protected", "value": true}, {"op": "add", "path": "/protected_reason", "value": theirProtection},
		}, nil)
	}
	return s
}

func vifExtra(vif string) map[string]any {
	if vif == "" {
		return map[string]any{}
	}
	return map[string]any{"vif_port_id": vif}
}

// setInternalVIF records vif as internal_info.tenant_vif_port_id of a port
// or portgroup: Ironic's API cannot, its conductor does it when it
// attaches a VIF through Neutron, which the test Ironic has not.
func setInternalVIF(t *testing.T, table, id, vif string) {
	t.Helper()
	if vif == "" {
		return
	}
	info, err := json.Marshal(map[string]string{"tenant_vif_port_id": vif})
	if err != nil {
		t.Fatal(err)
	}
	// table is one of two constants of the caller, never input.
	ironicDB(t, "UPDATE "+table+" SET internal_info = ? WHERE uuid = ?", string(info), id)
}

// ironicDB runs one statement on the test Ironic's database.
func ironicDB(t *testing.T, stmt string, args ...any) {
	t.Helper()
	if err := execIronicDB(t.Context(), ironicEnv(t).ironic.DB, stmt, args...); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// execIronicDB runs one statement on Ironic's database at path.
func execIronicDB(ctx context.Context, path, stmt string, args ...any) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(20000)")
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	_, err = db.ExecContext(ctx, stmt, args...)
	return err
}

// provisionTo moves a node with a provision verb and waits for the state.
func provisionTo(t *testing.T, id, verb, want string) {
	t.Helper()
	f := ironicEnv(t).ironic.Fixture()
	if err := f.Request(t.Context(), http.MethodPut, "/v1/nodes/"+id+"/states/provision", map[string]string{"target": verb}, nil); err != nil {
		t.Fatalf("%s %s: %v", verb, id, err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var n struct {
			ProvisionState string  `json:"provision_state"`
			LastError      *string `json:"last_error"`
		}
		if err := f.Request(t.Context(), http.MethodGet, "/v1/nodes/"+id+"?fields=provision_state,last_error", nil, &n); err != nil {
			t.Fatal(err)
		}
		if n.ProvisionState == want {
			waitLogged(t, id, want, deadline)
			return
		}
		if n.LastError != nil && *n.LastError != "" || time.Now().After(deadline) {
			t.Fatalf("node %s: %s: state %s, last_error %v", id, verb, n.ProvisionState, n.LastError)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLogged waits until Ironic's log shows the node's move to state. The
// API shows the state a moment before the conductor's log line is written
// (a loaded machine makes the moment long): a test comparing the log
// before and after a call must start from the logged state, or it sees
// the setup's own move as the call's.
func waitLogged(t *testing.T, id, state string, deadline time.Time) {
	t.Helper()
	for {
		states, err := ironicEnv(t).ironic.ProvisionStates(id)
		if err != nil {
			t.Fatal(err)
		}
		if len(states) > 0 && states[len(states)-1] == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s is %s, but Ironic's log says %v", id, state, states)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// machineLog is what Ironic's log says happened to a node's machine:
// the provision states it went through and the power actions taken.
type machineLog struct {
	States []string
	Power  []ironic.PowerChange
}

func readMachineLog(t *testing.T, id string) machineLog {
	t.Helper()
	srv := ironicEnv(t).ironic
	states, err := srv.ProvisionStates(id)
	if err != nil {
		t.Fatal(err)
	}
	power, err := srv.PowerChanges(id)
	if err != nil {
		t.Fatal(err)
	}
	return machineLog{States: states, Power: power}
}

// wantMachineUntouched checks that Ironic's log shows no provision state
// and no power action for the node since before was read.
func wantMachineUntouched(t *testing.T, id string, before machineLog) {
	t.Helper()
	after := readMachineLog(t, id)
	if len(after.States) > len(before.States) || !slices.Equal(after.States[:len(before.States)], before.States) {
		t.Errorf("node %s changed provision state: Ironic's log had %v, now %v", id, before.States, after.States)
	}
	if len(after.Power) != len(before.Power) {
		t.Errorf("Ironic took power actions on node %s: %v", id, after.Power[min(len(before.Power), len(after.Power)):])
	}
}

// sourceView is a source node as the tests read it straight from Ironic.
type sourceView struct {
	Maintenance       bool    `json:"maintenance"`
	MaintenanceReason *string `json:"maintenance_reason"`
	ProvisionState    string  `json:"provision_state"`
	PowerState        *string `json:"power_state"`
	Protected         bool    `json:"protected"`
}

func (v *sourceView) String() string {
	if v == nil {
		return "gone"
	}
	reason := "null"
	if v.MaintenanceReason != nil {
		reason = fmt.Sprintf("%q", *v.MaintenanceReason)
	}
	return fmt.Sprintf("%s, maintenance %v (%s), protected %v", v.ProvisionState, v.Maintenance, reason, v.Protected)
}

// viewSource reads a source node from Ironic; nil when it is gone.
func viewSource(t *testing.T, id string) *sourceView {
	t.Helper()
	n := readNode(t, id)
	if n == nil {
		return nil
	}
	return &sourceView{
		Maintenance: n.Maintenance, MaintenanceReason: n.MaintenanceReason, ProvisionState: n.ProvisionState,
		PowerState: n.PowerState, Protected: n.Protected,
	}
}
