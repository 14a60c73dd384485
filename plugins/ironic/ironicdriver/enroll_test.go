package ironicdriver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// The one way an enrolled node may go in Ironic (DESIGN, "Migration"):
// never cleaning, deploying or anything else, and never a power action.
var enrollPath = []string{"enroll", "verifying", "manageable", "adopting", "active"}

// randomMAC is a locally administered MAC no fixture has.
func randomMAC() string {
	u := uuid.New()
	return fmt.Sprintf("52:55:%02x:%02x:%02x:%02x", u[0], u[1], u[2], u[3])
}

// enrollRequest describes a fresh fake-hardware machine: three ports,
// two of them bonded, one with its Neutron port and PXE, traits, an image,
// a secret driver_info field Ironic does not mask (so a test sees it
// arrived).
func enrollRequest() driver.EnrollRequest {
	id := uuid.NewString()
	pxe, noPXE := true, false
	macs := []string{randomMAC(), randomMAC(), randomMAC()}
	return driver.EnrollRequest{
		MigrationID: uuid.NewString(),
		NodeUUID:    id,
		Machine: driver.Machine{
			Name:          "enroll-" + id[:8],
			Driver:        "fake-hardware",
			DriverInfo:    map[string]any{"fake_address": "10.0.0.7"},
			Secrets:       []string{"fake_community"},
			ResourceClass: enrollRC,
			Properties:    map[string]any{"cpus": float64(8), "memory_mb": float64(16384)},
			Traits:        []string{"CUSTOM_MIGRATED", "HW_CPU_X86_VMX"},
			Image:         uuid.NewString(),
			Ports: []driver.MachinePort{
				{MAC: macs[0], PXEEnabled: &pxe, PhysicalNetwork: "physnet1", NeutronPortID: uuid.NewString()},
				{MAC: macs[1], PXEEnabled: &noPXE},
				{MAC: macs[2]},
			},
			Portgroups: []driver.MachinePortgroup{{Name: "bond-" + id[:8], MAC: macs[1], Mode: "active-backup", Ports: macs[1:]}},
			Owner:      "f978ef48d4af4dadbeece6174309bc71",
			Lessee:     "0a7c2f9b1e5d4c3b8a6f4e2d1c0b9a87",
		},
		Secrets: map[string]string{"fake_community": "c0mmunity-" + id[:8]},
	}
}

// enrolledNode is a node as the tests read it straight from Ironic.
type enrolledNode struct {
	UUID              string         `json:"uuid"`
	Name              string         `json:"name"`
	Driver            string         `json:"driver"`
	DriverInfo        map[string]any `json:"driver_info"`
	ResourceClass     string         `json:"resource_class"`
	Properties        map[string]any `json:"properties"`
	InstanceInfo      map[string]any `json:"instance_info"`
	AutomatedClean    *bool          `json:"automated_clean"`
	Extra             map[string]any `json:"extra"`
	Traits            []string       `json:"traits"`
	Owner             string         `json:"owner"`
	Lessee            string         `json:"lessee"`
	ProvisionState    string         `json:"provision_state"`
	PowerState        *string        `json:"power_state"`
	Protected         bool           `json:"protected"`
	ProtectedReason   *string        `json:"protected_reason"`
	Maintenance       bool           `json:"maintenance"`
	MaintenanceReason *string        `json:"maintenance_reason"`
	LastError         *string        `json:"last_error"`
}

// readNode reads a node straight from Ironic; nil when it does not exist.
func readNode(t *testing.T, id string) *enrolledNode {
	t.Helper()
	var n enrolledNode
	if err := ironicEnv(t).ironic.Fixture().Request(t.Context(), http.MethodGet, "/v1/nodes/"+id, nil, &n); err != nil {
		if strings.Contains(err.Error(), "404") || strings.Contains(err.Error(), "could not be found") {
			return nil
		}
		t.Fatal(err)
	}
	return &n
}

// ironicPort is a port as the tests read it.
type ironicPortView struct {
	UUID            string         `json:"uuid"`
	Address         string         `json:"address"`
	NodeUUID        string         `json:"node_uuid"`
	PXEEnabled      bool           `json:"pxe_enabled"`
	PhysicalNetwork *string        `json:"physical_network"`
	PortgroupUUID   *string        `json:"portgroup_uuid"`
	Extra           map[string]any `json:"extra"`
}

// portsOf lists the ports with these MACs, whichever node has them.
func portsWithMAC(t *testing.T, macs ...string) []ironicPortView {
	t.Helper()
	var out []ironicPortView
	for _, mac := range macs {
		var page struct {
			Ports []ironicPortView `json:"ports"`
		}
		ironicCall(t, http.MethodGet, "/v1/ports?detail=true&address="+mac, nil, &page)
		out = append(out, page.Ports...)
	}
	return out
}

// wantUntouched checks, from Ironic's log, that the node entered no
// state but the enrollment's and that Ironic took no power action on it.
func wantUntouched(t *testing.T, id string) {
	t.Helper()
	states, err := ironicEnv(t).ironic.ProvisionStates(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if !slices.Contains(enrollPath, s) {
			t.Errorf("node %s entered %q: its states in Ironic's log are %v", id, s, states)
		}
	}
	power, err := ironicEnv(t).ironic.PowerChanges(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(power) != 0 {
		t.Errorf("Ironic took power actions on %s: %v", id, power)
	}
}

// TestEnrollOneTransitionACall: through the plugin process, each call
// makes one transition — create, manage, adopt, protect — and a call
// after the last answers done again; the node is as described, and the
// only states it ever entered were the enrollment's, with no power action.
func TestEnrollOneTransitionACall(t *testing.T) {
	d := launch(t)
	req := enrollRequest()
	steps := []struct {
		state           string
		protected, done bool
	}{
		{"enroll", false, false},
		{"manageable", false, false},
		{"active", false, false},
		{"active", true, true},
		{"active", true, true}, // called again once done
	}
	for i, step := range steps {
		st, err := d.EnrollNode(t.Context(), req)
		if err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		if st.ProvisionState != step.state || st.Protected != step.protected || st.Done != step.done {
			t.Errorf("call %d = %+v, want state %s, protected %v, done %v", i+1, st, step.state, step.protected, step.done)
		}
		if n := readNode(t, req.NodeUUID); n == nil || n.ProvisionState != step.state {
			t.Fatalf("call %d left the node %+v, want it %s", i+1, n, step.state)
		}
	}
	n := readNode(t, req.NodeUUID)
	m := req.Machine
	reason := "mogan-manage migration " + req.MigrationID
	want := enrolledNode{
		UUID: req.NodeUUID, Name: m.Name, Driver: m.Driver,
		DriverInfo:    map[string]any{"fake_address": "10.0.0.7", "fake_community": req.Secrets["fake_community"]},
		ResourceClass: enrollRC, Properties: m.Properties,
		InstanceInfo:   map[string]any{"image_source": m.Image},
		AutomatedClean: ptr(false), Extra: map[string]any{migrationKey: req.MigrationID},
		Traits: m.Traits, Owner: m.Owner, Lessee: m.Lessee,
		ProvisionState: "active", Protected: true, ProtectedReason: &reason,
	}
	got := *n
	slices.Sort(got.Traits)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("enrolled node (-want +got):\n%s", diff)
	}
	states, err := ironicEnv(t).ironic.ProvisionStates(req.NodeUUID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(enrollPath, states); diff != "" {
		t.Errorf("provision states in Ironic's log (-want +got):\n%s", diff)
	}
	wantUntouched(t, req.NodeUUID)

	var pgs struct {
		Portgroups []struct {
			UUID, Name, Address, Mode string
			Extra                     map[string]any
		} `json:"portgroups"`
	}
	ironicCall(t, http.MethodGet, "/v1/portgroups?detail=true&node="+req.NodeUUID, nil, &pgs)
	if len(pgs.Portgroups) != 1 {
		t.Fatalf("portgroups = %+v, want the bond", pgs.Portgroups)
	}
	pg := pgs.Portgroups[0]
	if pg.Name != m.Portgroups[0].Name || pg.Address != m.Portgroups[0].MAC || pg.Mode != "active-backup" ||
		pg.Extra[migrationKey] != req.MigrationID {
		t.Errorf("portgroup = %+v, want %+v marked with the migration", pg, m.Portgroups[0])
	}
	ports := portsWithMAC(t, m.Ports[0].MAC, m.Ports[1].MAC, m.Ports[2].MAC)
	wantPorts := []ironicPortView{
		{Address: m.Ports[0].MAC, PXEEnabled: true, PhysicalNetwork: ptr("physnet1"),
			Extra: map[string]any{migrationKey: req.MigrationID, "vif_port_id": m.Ports[0].NeutronPortID}},
		{Address: m.Ports[1].MAC, PXEEnabled: false, PortgroupUUID: &pg.UUID, Extra: map[string]any{migrationKey: req.MigrationID}},
		// Ironic's default for pxe_enabled is true.
		{Address: m.Ports[2].MAC, PXEEnabled: true, PortgroupUUID: &pg.UUID, Extra: map[string]any{migrationKey: req.MigrationID}},
	}
	for i := range ports {
		if ports[i].NodeUUID != req.NodeUUID {
			t.Errorf("port %s is on node %s, want %s", ports[i].Address, ports[i].NodeUUID, req.NodeUUID)
		}
		ports[i].UUID, ports[i].NodeUUID = "", ""
	}
	if diff := cmp.Diff(wantPorts, ports); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
	if err := d.DeleteEnrolled(t.Context(), req.MigrationID, req.NodeUUID); err != nil {
		t.Fatal(err)
	}
}

// TestEnrollFinishesAnInterruptedCreation: a node this migration created
// whose ports, portgroups and traits never came (the call died midway)
// gets them on the next call, which then does nothing more; the one after
// requests manage. Neither needs the secrets: they were in the memory of
// the host that died (DESIGN: a repair never needs them).
func TestEnrollFinishesAnInterruptedCreation(t *testing.T) {
	d := newTestDriver(t)
	req := enrollRequest()
	resumed := req
	resumed.Secrets = nil
	ironicCall(t, http.MethodPost, "/v1/nodes", map[string]any{"uuid": req.NodeUUID, "name": req.Machine.Name,
		"driver": "fake-hardware", "automated_clean": false, "extra": map[string]any{migrationKey: req.MigrationID}}, nil)
	// One port of three made it.
	ironicCall(t, http.MethodPost, "/v1/ports", map[string]any{"node_uuid": req.NodeUUID, "address": req.Machine.Ports[0].MAC}, nil)
	st, err := d.EnrollNode(t.Context(), resumed)
	if err != nil {
		t.Fatal(err)
	}
	if st.ProvisionState != "enroll" {
		t.Errorf("finishing the creation = %+v, want still enroll", st)
	}
	if got := len(portsWithMAC(t, req.Machine.Ports[0].MAC, req.Machine.Ports[1].MAC, req.Machine.Ports[2].MAC)); got != 3 {
		t.Errorf("%d ports, want 3 (no duplicate, none missing)", got)
	}
	if n := readNode(t, req.NodeUUID); len(n.Traits) != 2 {
		t.Errorf("traits = %v, want the machine's", n.Traits)
	}
	if st, err = d.EnrollNode(t.Context(), resumed); err != nil || st.ProvisionState != "manageable" {
		t.Errorf("next call = %+v, %v; want manageable", st, err)
	}
	if err := d.DeleteEnrolled(t.Context(), req.MigrationID, req.NodeUUID); err != nil {
		t.Fatal(err)
	}
}

// TestEnrollRefusals: what EnrollNode refuses, with the kind and the
// words an operator needs, and what it leaves behind (the host's undo,
// DeleteEnrolled, removes a node that was created).
func TestEnrollRefusals(t *testing.T) {
	fixture := fixtureOf(t, ironic.KindAdoptable)[0]
	tests := map[string]struct {
		change   func(*driver.EnrollRequest)
		calls    int // the call that fails
		kind     error
		contains []string
		// created: the failing call leaves a node (in enroll) to undo.
		created bool
	}{
		"a MAC already in Ironic": {
			change: func(r *driver.EnrollRequest) { r.Machine.Ports[0].MAC = fixture.Ports[0].Address },
			calls:  1, kind: driver.ErrConflict, created: true,
			contains: []string{fixture.Ports[0].Address, "already exists"},
		},
		"a name already used": {
			change: func(r *driver.EnrollRequest) { r.Machine.Name = fixture.Name },
			calls:  1, kind: driver.ErrConflict,
			contains: []string{fixture.Name, "already exists"},
		},
		"a node uuid already used": {
			change: func(r *driver.EnrollRequest) { r.NodeUUID = fixture.UUID },
			calls:  1, kind: driver.ErrConflict,
			contains: []string{fixture.UUID, "did not create it"},
		},
		"a missing secret": {
			change: func(r *driver.EnrollRequest) { delete(r.Secrets, "fake_community") },
			calls:  1, kind: driver.ErrInvalidArgument,
			contains: []string{"fake_community"},
		},
		"a BMC that fails manage": {
			change: func(r *driver.EnrollRequest) {
				r.Machine.Driver = "redfish"
				r.Machine.DriverInfo = map[string]any{"redfish_address": "http://" + closedPort(t), "redfish_system_id": "/redfish/v1/Systems/1",
					"redfish_username": "admin"}
				r.Machine.Secrets = []string{"redfish_password"}
				r.Secrets = map[string]string{"redfish_password": "Xyzzy-s3cret"}
			},
			calls: 2, kind: driver.ErrNotManageable, created: true,
			contains: []string{"could not manage it", "Redfish"},
		},
		"a power state given while fake-hardware reads none": {
			change: func(r *driver.EnrollRequest) { r.Machine.PowerState = "power on" },
			calls:  3, kind: driver.ErrNotManageable, created: true,
			contains: []string{"could not read its power state", "reads none", "power on", "another machine's"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := newTestDriver(t)
			req := enrollRequest()
			tc.change(&req)
			var err error
			for call := 1; call <= tc.calls; call++ {
				if _, err = d.EnrollNode(t.Context(), req); call < tc.calls && err != nil {
					t.Fatalf("call %d: %v", call, err)
				}
			}
			if !errors.Is(err, tc.kind) {
				t.Fatalf("call %d = %v, want kind %v", tc.calls, err, tc.kind)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if _, again := d.EnrollNode(t.Context(), req); !errors.Is(again, tc.kind) {
				t.Errorf("called again: %v, want the same refusal", again)
			}
			if req.NodeUUID == fixture.UUID {
				if n := readNode(t, fixture.UUID); n == nil || n.ProvisionState != "active" || n.Protected {
					t.Errorf("the fixture node was touched: %+v", n)
				}
				return
			}
			n := readNode(t, req.NodeUUID)
			if (n != nil) != tc.created {
				t.Fatalf("node after the refusal = %+v, want created %v", n, tc.created)
			}
			if n != nil {
				wantUntouched(t, req.NodeUUID)
				if err := d.DeleteEnrolled(t.Context(), req.MigrationID, req.NodeUUID); err != nil {
					t.Fatal(err)
				}
			}
			if n := readNode(t, req.NodeUUID); n != nil {
				t.Errorf("node left behind: %+v", n)
			}
			var ours []string
			for _, p := range portsWithMAC(t, req.Machine.Ports[0].MAC, req.Machine.Ports[1].MAC, req.Machine.Ports[2].MAC) {
				if p.Extra[migrationKey] == req.MigrationID {
					ours = append(ours, p.Address)
				}
			}
			if len(ours) != 0 {
				t.Errorf("ports left behind: %v", ours)
			}
		})
	}
}

// TestEnrollChecksThePowerStateRead: after manage, a power state the
// machine description gives must be the one Ironic read, else the BMC may
// be another machine's and the node is not adopted.
func TestEnrollChecksThePowerStateRead(t *testing.T) {
	tests := map[string]struct {
		read, want string
		wantErr    bool
	}{
		"the same":     {read: "power on", want: "power on"},
		"another":      {read: "power off", want: "power on", wantErr: true},
		"not given":    {read: "power off", want: ""},
		"none, given":  {read: "", want: "power off", wantErr: true},
		"none, absent": {read: "", want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := newTestDriver(t)
			req := enrollRequest()
			req.Machine.PowerState = tc.want
			for range 2 { // create, manage
				if _, err := d.EnrollNode(t.Context(), req); err != nil {
					t.Fatal(err)
				}
			}
			if tc.read != "" {
				// The test plays the BMC's reading (fake-hardware reads
				// what the node records).
				ironicCall(t, http.MethodPut, "/v1/nodes/"+req.NodeUUID+"/states/power", map[string]string{"target": tc.read}, nil)
				waitPower(t, req.NodeUUID, tc.read)
			}
			st, err := d.EnrollNode(t.Context(), req)
			switch {
			case tc.wantErr && !errors.Is(err, driver.ErrNotManageable):
				t.Errorf("adopting = %+v, %v; want ErrNotManageable", st, err)
			case tc.wantErr && !strings.Contains(err.Error(), "another machine's"):
				t.Errorf("error %q does not say the BMC may be another machine's", err)
			case !tc.wantErr && (err != nil || st.ProvisionState != "active"):
				t.Errorf("adopting = %+v, %v; want active", st, err)
			}
			if err := d.DeleteEnrolled(t.Context(), req.MigrationID, req.NodeUUID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// waitPower waits until Ironic records the node's power state.
func waitPower(t *testing.T, id, want string) {
	t.Helper()
	for range 200 {
		if n := readNode(t, id); n.PowerState != nil && *n.PowerState == want {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("node %s never reached %s", id, want)
}

// TestDeleteEnrolled: the undo deletes the node this migration enrolled,
// with its ports and portgroups, in every state it can be in — lifting
// only its own protection, turning maintenance on where Ironic deletes no
// node otherwise — and never touches the machine: no state but the
// enrollment's, no power action.
func TestDeleteEnrolled(t *testing.T) {
	tests := map[string]struct {
		calls int // EnrollNode calls before the undo
		// then changes the node behind the driver's back.
		then func(t *testing.T, id string)
	}{
		"never created":        {calls: 0},
		"enroll":               {calls: 1},
		"manageable":           {calls: 2},
		"active":               {calls: 3},
		"active and protected": {calls: 4},
		"in maintenance": {calls: 4, then: func(t *testing.T, id string) {
			ironicCall(t, http.MethodPut, "/v1/nodes/"+id+"/maintenance", map[string]string{"reason": "someone looks at it"}, nil)
		}},
		"manage failed, back in enroll": {calls: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := newTestDriver(t)
			req := enrollRequest()
			if name == "manage failed, back in enroll" {
				req.Machine.Driver = "redfish"
				req.Machine.DriverInfo = map[string]any{"redfish_address": "http://" + closedPort(t), "redfish_system_id": "/redfish/v1/Systems/1"}
				req.Machine.Secrets, req.Secrets = nil, nil
			}
			for call := range tc.calls {
				if _, err := d.EnrollNode(t.Context(), req); err != nil && call < 1 {
					t.Fatal(err)
				}
			}
			if tc.then != nil {
				tc.then(t, req.NodeUUID)
			}
			before := readNode(t, req.NodeUUID)
			if err := d.DeleteEnrolled(t.Context(), req.MigrationID, req.NodeUUID); err != nil {
				t.Fatalf("DeleteEnrolled of a node in %+v: %v", before, err)
			}
			if n := readNode(t, req.NodeUUID); n != nil {
				t.Fatalf("node still there: %+v", n)
			}
			if ps := portsWithMAC(t, req.Machine.Ports[0].MAC, req.Machine.Ports[1].MAC, req.Machine.Ports[2].MAC); len(ps) != 0 {
				t.Errorf("ports left: %+v", ps)
			}
			if before != nil {
				wantUntouched(t, req.NodeUUID)
			}
			if err := d.DeleteEnrolled(t.Context(), req.MigrationID, req.NodeUUID); err != nil {
				t.Errorf("DeleteEnrolled again: %v, want success (gone)", err)
			}
		})
	}
}

// TestDeleteEnrolledRefuses: a node this migration did not enroll, one
// associated with an instance, one someone else protected: refused, and
// left exactly as it was.
func TestDeleteEnrolledRefuses(t *testing.T) {
	tests := map[string]struct {
		// node returns the node to undo, and the migration asking.
		node func(t *testing.T, d *Driver) (id, migration string)
		kind error
	}{
		"not enrolled by any migration": {func(t *testing.T, _ *Driver) (string, string) {
			return fixtureOf(t, ironic.KindAdoptable)[0].UUID, uuid.NewString()
		}, driver.ErrConflict},
		"another migration's": {func(t *testing.T, d *Driver) (string, string) {
			req := enrollRequest()
			mustEnroll(t, d, req, 1)
			return req.NodeUUID, uuid.NewString()
		}, driver.ErrConflict},
		"associated with an instance": {func(t *testing.T, d *Driver) (string, string) {
			req := enrollRequest()
			mustEnroll(t, d, req, 4)
			if _, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: req.NodeUUID, ServerUUID: uuid.NewString()}); err != nil {
				t.Fatal(err)
			}
			return req.NodeUUID, req.MigrationID
		}, driver.ErrConflict},
		"protected by someone else": {func(t *testing.T, d *Driver) (string, string) {
			req := enrollRequest()
			mustEnroll(t, d, req, 4)
			ironicCall(t, http.MethodPatch, "/v1/nodes/"+req.NodeUUID, []map[string]any{
				{"op": "add", "path": "/protected_reason", "value": "keep: ask Ana"}}, nil)
			return req.NodeUUID, req.MigrationID
		}, driver.ErrNodeProtected},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := newTestDriver(t)
			id, migration := tc.node(t, d)
			before := readNode(t, id)
			err := d.DeleteEnrolled(t.Context(), migration, id)
			if !errors.Is(err, tc.kind) {
				t.Errorf("DeleteEnrolled = %v, want kind %v", err, tc.kind)
			}
			if diff := cmp.Diff(before, readNode(t, id)); diff != "" {
				t.Errorf("the node changed (-before +after):\n%s", diff)
			}
		})
	}
}

// mustEnroll makes calls EnrollNode calls.
func mustEnroll(t *testing.T, d *Driver, req driver.EnrollRequest, calls int) {
	t.Helper()
	for call := range calls {
		if _, err := d.EnrollNode(t.Context(), req); err != nil {
			t.Fatalf("call %d: %v", call+1, err)
		}
	}
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestEnrollInStatesAFakeBMCNeverReaches: states a fake-hardware node
// never stays in, written in Ironic's database — an adoption that failed,
// a transition that outlasts the call — and the undo of each: adopt
// failed is refused with Ironic's error and deleted as it is; a node still
// in a transition is answered as it stands (the host calls again), and
// the undo puts it in maintenance first.
func TestEnrollInStatesAFakeBMCNeverReaches(t *testing.T) {
	tests := map[string]struct {
		state, target, lastError string
		wantKind                 error
		maintenance              bool // the undo turns maintenance on first
	}{
		"adopt failed":    {state: "adopt failed", target: "active", lastError: "the deploy interface refused", wantKind: driver.ErrNotManageable},
		"still adopting":  {state: "adopting", target: "active", maintenance: true},
		"still verifying": {state: "verifying", target: "manageable", maintenance: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := newTestDriver(t)
			req := enrollRequest()
			mustEnroll(t, d, req, 2) // manageable
			var lastError any
			if tc.lastError != "" {
				lastError = tc.lastError
			}
			ironicDB(t, "UPDATE nodes SET provision_state = ?, target_provision_state = ?, last_error = ? WHERE uuid = ?",
				tc.state, tc.target, lastError, req.NodeUUID)
			ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
			defer cancel()
			st, err := d.EnrollNode(ctx, req)
			switch {
			case tc.wantKind != nil && (!errors.Is(err, tc.wantKind) || !strings.Contains(err.Error(), tc.lastError)):
				t.Errorf("EnrollNode = %+v, %v; want %v with Ironic's error", st, err, tc.wantKind)
			case tc.wantKind == nil && (err != nil || st.ProvisionState != tc.state || st.Done):
				t.Errorf("EnrollNode = %+v, %v; want the node answered %s, not done, within the call", st, err, tc.state)
			}
			counter := countRequests(d)
			d.client = nil // a new transport, counted
			if err := d.DeleteEnrolled(t.Context(), req.MigrationID, req.NodeUUID); err != nil {
				t.Fatal(err)
			}
			if n := readNode(t, req.NodeUUID); n != nil {
				t.Fatalf("node still there: %+v", n)
			}
			maintenance := slices.Contains(counter.calls(), "PUT /v1/nodes/"+req.NodeUUID+"/maintenance")
			if maintenance != tc.maintenance {
				t.Errorf("the undo turned maintenance on: %v, want %v (requests %v)", maintenance, tc.maintenance, counter.calls())
			}
			wantUntouched(t, req.NodeUUID)
		})
	}
}
