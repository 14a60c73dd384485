package fromproto_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/proto"

	"github.com/mogan-manage/mogan-manage/proto/driverv1"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/internal/fromproto"
	"github.com/mogan-manage/mogan-manage/shared/internal/toproto"
)

// fullNode sets every field, so that a field one direction forgets shows
// up as a diff.
func fullNode() driver.Node {
	return driver.Node{
		UUID:           "7de2859d-ec6d-42c7-bb86-9d630ba5ac94",
		Name:           "test_node",
		ResourceClass:  "gold",
		PowerState:     "power on",
		ProvisionState: "active",
		Ports: []driver.Port{
			{UUID: "1ec01153-685a-49b5-a6d3-45a4e7dddf53", Address: "a4:dc:be:0e:82:a5", NeutronPortID: "a9b94592-1d8e-46bb-836b-c7ba935b0136"},
			{UUID: "1ec01153-685a-49b5-a6d3-45a4e7dddf55", Address: "a4:dc:be:0e:82:a7"},
		},
		Portgroups: []driver.Portgroup{
			{UUID: "1ec01153-685a-49b5-a6d3-45a4e7dddf54", Address: "a4:dc:be:0e:82:a6", Mode: "active-backup", NeutronPortID: "a9b94592-1d8e-46bb-836b-c7ba935b0137"},
		},
		ImageSource:  "03239419-e588-42b6-a70f-94f23ed0c9e2",
		InstanceUUID: "f978ef48-d4af-4dad-beec-e6174309bc71",
		Manageable:   false,
		Reason:       "node is associated with instance f978ef48-d4af-4dad-beec-e6174309bc71",
		Properties:   map[string]string{"driver": "ipmi", "conductor_group": "rack1"},
	}
}

func TestNodeRoundTrip(t *testing.T) {
	tests := map[string]driver.Node{
		"every field":      fullNode(),
		"only the uuid":    {UUID: "7de2859d-ec6d-42c7-bb86-9d630ba5ac94"},
		"manageable, bare": {UUID: "x", PowerState: "power off", ProvisionState: "active", Manageable: true},
		"empty lists":      {UUID: "x", Ports: []driver.Port{}, Portgroups: []driver.Portgroup{}},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			// Through the wire, as between the processes.
			wire, err := proto.Marshal(toproto.Node(in))
			if err != nil {
				t.Fatal(err)
			}
			var pb driverv1.Node
			if err := proto.Unmarshal(wire, &pb); err != nil {
				t.Fatal(err)
			}
			got := fromproto.Node(&pb)
			// Empty and absent lists are the same thing on the wire.
			if diff := cmp.Diff(in, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("round trip (-in +out):\n%s", diff)
			}
		})
	}
}

func TestOptionalFieldsAreAbsentWhenEmpty(t *testing.T) {
	pb := toproto.Node(driver.Node{UUID: "x", Ports: []driver.Port{{UUID: "p"}}, Portgroups: []driver.Portgroup{{UUID: "g"}}})
	if pb.Name != nil || pb.ResourceClass != nil || pb.ImageSource != nil || pb.InstanceUuid != nil {
		t.Errorf("empty optional strings were sent as present: %v", pb)
	}
	if pb.Ports[0].NeutronPortId != nil || pb.Portgroups[0].Mode != nil || pb.Portgroups[0].NeutronPortId != nil {
		t.Errorf("empty optional port fields were sent as present: %v", pb)
	}
}

func TestRequestsRoundTrip(t *testing.T) {
	opts := driver.ListOptions{ResourceClass: "gold", Limit: 25, Marker: "7de2859d-ec6d-42c7-bb86-9d630ba5ac94", IncludeUnmanageable: true}
	if diff := cmp.Diff(opts, fromproto.ListOptions(toproto.ListManageableNodesRequest(opts))); diff != "" {
		t.Errorf("ListOptions (-in +out):\n%s", diff)
	}
	req := driver.ManageRequest{NodeUUID: "n", ServerUUID: "s"}
	if diff := cmp.Diff(req, fromproto.ManageRequest(toproto.ManageRequest(req))); diff != "" {
		t.Errorf("ManageRequest (-in +out):\n%s", diff)
	}
	if diff := cmp.Diff(req, fromproto.UnmanageRequest(toproto.UnmanageRequest(req))); diff != "" {
		t.Errorf("UnmanageRequest (-in +out):\n%s", diff)
	}
	info := driver.Info{Name: "ironic", Version: "1.2.3", Capabilities: []string{"discover", "adopt"}}
	if diff := cmp.Diff(info, fromproto.Info(toproto.GetInfoResponse(info))); diff != "" {
		t.Errorf("Info (-in +out):\n%s", diff)
	}
}

func TestLimitIsClampedToInt32(t *testing.T) {
	if got := toproto.ListManageableNodesRequest(driver.ListOptions{Limit: 1 << 40}).GetLimit(); got != 1<<31-1 {
		t.Errorf("limit = %d; want it clamped to %d", got, 1<<31-1)
	}
}

func TestNilInZeroOut(t *testing.T) {
	if diff := cmp.Diff(driver.Node{}, fromproto.Node(nil)); diff != "" {
		t.Errorf("Node(nil) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(driver.Info{}, fromproto.Info(nil)); diff != "" {
		t.Errorf("Info(nil) (-want +got):\n%s", diff)
	}
}

func TestConfigSchemaRoundTrip(t *testing.T) {
	tests := map[string][]driver.ConfigOption{
		"every field": {{Name: "auth_type", Type: driver.OptionChoice, Default: "none", Help: "How to authenticate.",
			Required: true, Choices: []string{"none", "password"}}, {Name: "password", Help: "A secret.", Secret: true}},
		"no options": {},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			wire, err := proto.Marshal(toproto.GetConfigSchemaResponse(in))
			if err != nil {
				t.Fatal(err)
			}
			var pb driverv1.GetConfigSchemaResponse
			if err := proto.Unmarshal(wire, &pb); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(in, fromproto.ConfigSchema(&pb), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("round trip (-in +out):\n%s", diff)
			}
		})
	}
}
