package neutron_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
)

// TestResolveNetwork: by id, by a unique name; an unknown one and a name
// two networks share are refused naming them.
func TestResolveNetwork(t *testing.T) {
	c := newClient(t, testNeutron.URL)
	ctx := t.Context()
	twinA, err := testNeutron.CreateTenantNetwork(ctx, "twin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testNeutron.CreateTenantNetwork(ctx, "twin"); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		ask    string
		wantID string
		kind   error
	}{
		"by id":          {ask: testNetwork, wantID: testNetwork},
		"by name":        {ask: "provisioning", wantID: testNetwork},
		"by id of twins": {ask: twinA, wantID: twinA},
		"unknown":        {ask: "nowhere", kind: neutron.ErrNetworkNotFound},
		"ambiguous":      {ask: "twin", kind: neutron.ErrNetworkAmbiguous},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := c.ResolveNetwork(ctx, tc.ask)
			if tc.kind != nil {
				if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.ask) {
					t.Errorf("ResolveNetwork(%q) = %v, want %v naming it", tc.ask, err, tc.kind)
				}
				return
			}
			if err != nil || got.ID != tc.wantID {
				t.Errorf("ResolveNetwork(%q) = %+v, %v; want %s", tc.ask, got, err, tc.wantID)
			}
		})
	}
}

// TestCreateFindDeletePort: a created port is found by its MAC and by its
// fixed IP; the IP again with another MAC is ErrAddressInUse naming it;
// deleting twice is fine.
func TestCreateFindDeletePort(t *testing.T) {
	c := newClient(t, testNeutron.URL)
	ctx := t.Context()
	const mac = "52:54:00:aa:bb:01"
	p, err := c.CreatePort(ctx, "mogan-migration-test", testNetwork, mac, []string{"10.2.0.77"})
	if err != nil {
		t.Fatal(err)
	}
	if p.MACAddress != mac || len(p.FixedIPs) != 1 || p.FixedIPs[0].IPAddress != "10.2.0.77" {
		t.Errorf("created port = %+v", p)
	}
	byMAC, err := c.PortsByMAC(ctx, mac)
	if err != nil || len(byMAC) != 1 || byMAC[0].ID != p.ID {
		t.Errorf("PortsByMAC = %+v, %v", byMAC, err)
	}
	byIP, err := c.PortsByFixedIP(ctx, testNetwork, "10.2.0.77")
	if err != nil || len(byIP) != 1 || byIP[0].ID != p.ID {
		t.Errorf("PortsByFixedIP = %+v, %v", byIP, err)
	}
	if _, err := c.CreatePort(ctx, "other", testNetwork, "52:54:00:aa:bb:02", []string{"10.2.0.77"}); !errors.Is(err, neutron.ErrAddressInUse) ||
		!strings.Contains(err.Error(), "10.2.0.77") {
		t.Errorf("a second port with the IP = %v, want ErrAddressInUse naming it", err)
	}
	for range 2 {
		if err := c.DeletePort(ctx, p.ID); err != nil {
			t.Errorf("DeletePort = %v", err)
		}
	}
	if got, _ := c.PortsByMAC(ctx, mac); len(got) != 0 {
		t.Errorf("port still there: %+v", got)
	}
}
