package neutron_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mogan-manage/mogan-manage/testenv/neutron"
	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// TestNeutron starts Neutron, makes a network, subnet and port, binds the
// port as a baremetal one (the test mechanism driver must answer
// vif_type "other", not "binding_failed"), unbinds and deletes it, and
// checks Stop leaves no process behind.
func TestNeutron(t *testing.T) {
	n, err := neutron.Start(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	ctx := t.Context()

	netID, err := n.CreateNetwork(ctx, "provisioning")
	if err != nil {
		t.Fatal(err)
	}
	subnetID, err := n.CreateSubnet(ctx, netID, "10.1.0.0/24")
	if err != nil {
		t.Fatal(err)
	}
	const mac = "52:54:00:aa:bb:01"
	port, err := n.CreatePort(ctx, netID, mac)
	if err != nil {
		t.Fatal(err)
	}
	if len(port.FixedIPs) != 1 || port.FixedIPs[0].SubnetID != subnetID || port.FixedIPs[0].IPAddress == "" {
		t.Fatalf("fixed IPs %+v, want one address on subnet %s", port.FixedIPs, subnetID)
	}
	ignoreIPs := cmpopts.IgnoreFields(neutron.Port{}, "FixedIPs")
	want := neutron.Port{ID: port.ID, NetworkID: netID, MAC: mac, VNICType: "normal", VIFType: "unbound"}
	if diff := cmp.Diff(want, port, ignoreIPs); diff != "" {
		t.Errorf("created port (-want +got):\n%s", diff)
	}

	steps := []struct {
		name, host, vnic string
		want             neutron.Port
	}{
		{"bind baremetal", "node-1", "baremetal", neutron.Port{HostID: "node-1", VNICType: "baremetal", VIFType: "other"}},
		{"unbind", "", "normal", neutron.Port{VNICType: "normal", VIFType: "unbound"}},
	}
	for _, s := range steps {
		if _, err := n.BindPort(ctx, port.ID, s.host, s.vnic); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got, err := n.GetPort(ctx, port.ID)
		if err != nil {
			t.Fatal(err)
		}
		s.want.ID, s.want.NetworkID, s.want.MAC = port.ID, netID, mac
		if diff := cmp.Diff(s.want, got, ignoreIPs); diff != "" {
			t.Errorf("%s: port (-want +got):\n%s", s.name, diff)
		}
	}

	if err := n.DeletePort(ctx, port.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.GetPort(ctx, port.ID); !errors.Is(err, neutron.ErrNotFound) {
		t.Errorf("deleted port: err %v, want ErrNotFound", err)
	}

	// The server forks an RPC and a periodic worker; all must go.
	if procs := n.Processes(); len(procs) < 2 {
		t.Errorf("processes before Stop %v, want the server and its workers", procs)
	}
	n.Stop()
	if procs := n.Processes(); len(procs) != 0 || proctest.Alive(n.PID) {
		t.Errorf("processes after Stop %v (leader %d)", procs, n.PID)
	}
	if _, err := n.GetPort(ctx, port.ID); err == nil {
		t.Error("Neutron still answers after Stop")
	}
}
