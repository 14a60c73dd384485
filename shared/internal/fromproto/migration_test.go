package fromproto_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/proto"

	"github.com/mogan-manage/mogan-manage/proto/driverv1"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/internal/fromproto"
	"github.com/mogan-manage/mogan-manage/shared/internal/toproto"
)

func ptr[T any](v T) *T { return &v }

// fullMachine sets every field, so that a field one direction forgets
// shows up as a diff. Numbers are float64, as JSON (and an inventory) has
// them.
func fullMachine() driver.Machine {
	return driver.Machine{
		Name:   "rack1-node7",
		Driver: "redfish",
		DriverInfo: map[string]any{
			"redfish_address": "https://10.0.0.7",
			"redfish_port":    float64(443),
			"redfish_verify":  false,
			"nested":          map[string]any{"list": []any{"a", float64(1), nil}},
		},
		Secrets:         []string{"redfish_password"},
		ResourceClass:   "gold",
		Properties:      map[string]any{"cpus": float64(64), "capabilities": "boot_mode:uefi"},
		Traits:          []string{"CUSTOM_GOLD", "HW_CPU_X86_VMX"},
		DeployInterface: "direct",
		Image:           "03239419-e588-42b6-a70f-94f23ed0c9e2",
		PowerState:      "power on",
		Ports: []driver.MachinePort{
			{MAC: "52:54:00:00:00:01", PXEEnabled: ptr(true), PhysicalNetwork: "physnet1", Network: "provisioning",
				FixedIPs: []string{"10.1.0.7", "fd00::7"}, NeutronPortID: "a9b94592-1d8e-46bb-836b-c7ba935b0136"},
			{MAC: "52:54:00:00:00:02", PXEEnabled: ptr(false)},
			{MAC: "52:54:00:00:00:03"},
		},
		Portgroups: []driver.MachinePortgroup{
			{Name: "bond0", MAC: "52:54:00:00:00:02", Mode: "802.3ad", Ports: []string{"52:54:00:00:00:02", "52:54:00:00:00:03"}},
		},
		Owner:  "f978ef48d4af4dadbeece6174309bc71",
		Lessee: "0a7c2f9b1e5d4c3b8a6f4e2d1c0b9a87",
	}
}

// wire sends m through its binary form, as between the processes.
func wire[M proto.Message](t *testing.T, in M, out M) M {
	t.Helper()
	b, err := proto.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMachineRoundTrip: a Machine comes back exactly, driver_info and
// properties nil or empty as they went (absent or an empty object on the
// wire), pxe_enabled unset, true or false. Lists are the same empty or
// absent (repeated fields cannot tell).
func TestMachineRoundTrip(t *testing.T) {
	tests := map[string]driver.Machine{
		"every field":            fullMachine(),
		"only the required":      {Name: "n", Driver: "fake-hardware"},
		"nil maps":               {Name: "n", DriverInfo: nil, Properties: nil},
		"empty maps":             {Name: "n", DriverInfo: map[string]any{}, Properties: map[string]any{}},
		"pxe_enabled unset only": {Name: "n", Ports: []driver.MachinePort{{MAC: "m"}}},
		"pxe_enabled false only": {Name: "n", Ports: []driver.MachinePort{{MAC: "m", PXEEnabled: ptr(false)}}},
		"empty lists": {Name: "n", Secrets: []string{}, Traits: []string{}, Ports: []driver.MachinePort{},
			Portgroups: []driver.MachinePortgroup{}},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			pb, err := toproto.Machine(in)
			if err != nil {
				t.Fatal(err)
			}
			got := fromproto.Machine(wire(t, pb, &driverv1.Machine{}))
			if diff := cmp.Diff(in, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("round trip (-in +out):\n%s", diff)
			}
			// EquateEmpty leaves this to be checked: nil is not empty.
			if (in.DriverInfo == nil) != (got.DriverInfo == nil) || (in.Properties == nil) != (got.Properties == nil) {
				t.Errorf("nil and empty maps were not kept apart: in %v/%v, out %v/%v", in.DriverInfo == nil, in.Properties == nil,
					got.DriverInfo == nil, got.Properties == nil)
			}
			for i, p := range in.Ports {
				if (p.PXEEnabled == nil) != (got.Ports[i].PXEEnabled == nil) {
					t.Errorf("port %d: pxe_enabled set %v went, set %v came back", i, p.PXEEnabled != nil, got.Ports[i].PXEEnabled != nil)
				}
			}
		})
	}
}

// TestMachineValuesTravelAsJSON: Go values JSON can write travel as JSON
// reads them ([]string as []any, an int as float64); one it cannot write
// is an error naming the field, not a panic.
func TestMachineValuesTravelAsJSON(t *testing.T) {
	pb, err := toproto.Machine(driver.Machine{Name: "n", DriverInfo: map[string]any{"list": []string{"a"}, "port": 623}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"list": []any{"a"}, "port": float64(623)}
	if diff := cmp.Diff(want, fromproto.Machine(pb).DriverInfo); diff != "" {
		t.Errorf("driver_info (-want +got):\n%s", diff)
	}
	_, err = toproto.Machine(driver.Machine{Name: "n", Properties: map[string]any{"c": make(chan int)}})
	if err == nil || !strings.Contains(err.Error(), "properties") {
		t.Errorf("a channel in properties: err = %v, want an error naming properties", err)
	}
}

func TestMigrationMessagesRoundTrip(t *testing.T) {
	t.Run("EnrollNodeRequest", func(t *testing.T) {
		in := driver.EnrollRequest{MigrationID: "m1", NodeUUID: "7de2859d-ec6d-42c7-bb86-9d630ba5ac94", Machine: fullMachine(),
			Secrets: map[string]string{"redfish_password": "s3cret"}}
		pb, err := toproto.EnrollNodeRequest(in)
		if err != nil {
			t.Fatal(err)
		}
		got := fromproto.EnrollRequest(wire(t, pb, &driverv1.EnrollNodeRequest{}))
		if diff := cmp.Diff(in, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("(-in +out):\n%s", diff)
		}
	})
	t.Run("EnrollNodeResponse", func(t *testing.T) {
		in := driver.EnrollState{ProvisionState: "active", PowerState: "power on", Protected: true, Done: true}
		got := fromproto.EnrollState(wire(t, toproto.EnrollNodeResponse(in), &driverv1.EnrollNodeResponse{}))
		if diff := cmp.Diff(in, got); diff != "" {
			t.Errorf("(-in +out):\n%s", diff)
		}
	})
	t.Run("ExportNodeResponse", func(t *testing.T) {
		in := driver.Export{Machine: fullMachine(), Maintenance: true, Protected: true, State: driver.NodeState{
			NodeUUID: "n", Exists: true, InstanceUUID: "i", PowerState: "power on", ProvisionState: "active"}}
		pb, err := toproto.ExportNodeResponse(in)
		if err != nil {
			t.Fatal(err)
		}
		got := fromproto.Export(wire(t, pb, &driverv1.ExportNodeResponse{}))
		if diff := cmp.Diff(in, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("(-in +out):\n%s", diff)
		}
	})
}

func TestMigrationNilInZeroOut(t *testing.T) {
	if diff := cmp.Diff(driver.Machine{}, fromproto.Machine(nil)); diff != "" {
		t.Errorf("Machine(nil) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(driver.EnrollRequest{}, fromproto.EnrollRequest(nil)); diff != "" {
		t.Errorf("EnrollRequest(nil) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(driver.Export{}, fromproto.Export(nil)); diff != "" {
		t.Errorf("Export(nil) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(driver.MachinePort{}, fromproto.MachinePort(nil)); diff != "" {
		t.Errorf("MachinePort(nil) (-want +got):\n%s", diff)
	}
}

// TestOptionalMachineFieldsAreAbsentWhenEmpty: "" is not sent as a present
// optional string.
func TestOptionalMachineFieldsAreAbsentWhenEmpty(t *testing.T) {
	pb, err := toproto.Machine(driver.Machine{Name: "n", Ports: []driver.MachinePort{{MAC: "m"}}, Portgroups: []driver.MachinePortgroup{{MAC: "g"}}})
	if err != nil {
		t.Fatal(err)
	}
	if pb.ResourceClass != nil || pb.DeployInterface != nil || pb.Image != nil || pb.PowerState != nil || pb.Owner != nil ||
		pb.Lessee != nil || pb.DriverInfo != nil || pb.Properties != nil {
		t.Errorf("empty optional fields were sent as present: %v", pb)
	}
	if p := pb.Ports[0]; p.PxeEnabled != nil || p.PhysicalNetwork != nil || p.Network != nil || p.NeutronPortId != nil {
		t.Errorf("empty optional port fields were sent as present: %v", p)
	}
	if g := pb.Portgroups[0]; g.Name != nil || g.Mode != nil {
		t.Errorf("empty optional portgroup fields were sent as present: %v", g)
	}
}
