package cloud_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/mogan-manage/mogan-manage/testenv/cloud"
	"github.com/mogan-manage/mogan-manage/testenv/glance"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
	"github.com/mogan-manage/mogan-manage/testenv/neutron"
	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// TestCloud starts Ironic, Glance and Neutron, enrolls a small mix and
// checks each service's view of it: Glance has the adoptable nodes'
// images, Neutron their VIFs with the ports' MACs and fixed IPs, Ironic
// records those VIFs; then the helpers change what they promise, and Stop
// leaves no process behind.
func TestCloud(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	c, err := cloud.Start(ctx, cloud.Options{Dir: dir, Glance: true, Neutron: true, IronicMaxLimit: 5, DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()

	nodes, err := c.Enroll(ctx, ironic.Mix{Adoptable: 2, Associated: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 3 {
		t.Fatalf("enrolled %d nodes, want 3", len(nodes))
	}
	adoptable, associated := nodes[0], nodes[2]

	t.Run("glance has the adoptable nodes' images only", func(t *testing.T) {
		for _, n := range nodes {
			err := c.Glance.Request(ctx, http.MethodGet, "/images/"+n.ImageSource, nil, nil)
			switch {
			case n.Kind == ironic.KindAdoptable && err != nil:
				t.Errorf("%s node %s: image %s: %v", n.Kind, n.UUID, n.ImageSource, err)
			case n.Kind != ironic.KindAdoptable && !errors.Is(err, glance.ErrNotFound):
				t.Errorf("%s node %s: image %s: err %v, want ErrNotFound", n.Kind, n.UUID, n.ImageSource, err)
			}
		}
	})

	t.Run("neutron has every VIF of the adoptable nodes", func(t *testing.T) {
		for _, n := range nodes[:2] {
			type vif struct{ id, mac, network string }
			var vifs []vif
			for _, p := range n.Ports {
				for _, id := range []string{p.InternalVIF, p.ExtraVIF} {
					if id != "" {
						vifs = append(vifs, vif{id, p.Address, c.NetworkID})
					}
				}
			}
			for _, pg := range n.Portgroups {
				vifs = append(vifs, vif{pg.InternalVIF, pg.Address, c.NetworkID}, vif{pg.ExtraVIF, pg.Address, c.ShadowNetworkID})
			}
			// Fixture: port 0 internal, port 1 extra, port 2 none; the
			// portgroup both.
			if len(vifs) != 4 {
				t.Fatalf("node %s: %d VIFs %+v, want 4", n.UUID, len(vifs), vifs)
			}
			for _, v := range vifs {
				p, err := c.Neutron.GetPort(ctx, v.id)
				if err != nil {
					t.Errorf("node %s: VIF %s: %v", n.UUID, v.id, err)
					continue
				}
				if p.MAC != v.mac || p.NetworkID != v.network {
					t.Errorf("node %s: VIF %s: MAC %s on %s, want %s on %s", n.UUID, v.id, p.MAC, p.NetworkID, v.mac, v.network)
				}
				if v.network == c.NetworkID && (len(p.FixedIPs) != 1 || p.FixedIPs[0].SubnetID != c.SubnetID || p.FixedIPs[0].IPAddress == "") {
					t.Errorf("node %s: VIF %s: fixed IPs %+v, want one on subnet %s", n.UUID, v.id, p.FixedIPs, c.SubnetID)
				}
			}
		}
		// Other nodes keep VIFs that name nothing.
		if _, err := c.Neutron.GetPort(ctx, associated.Ports[0].ExtraVIF); !errors.Is(err, neutron.ErrNotFound) {
			t.Errorf("associated node's VIF: err %v, want ErrNotFound", err)
		}
	})

	t.Run("ironic records the VIFs", func(t *testing.T) {
		for _, n := range nodes[:2] {
			got := ironicVIFs(ctx, t, c, "/v1/ports?detail=true&node_uuid="+n.UUID, "ports")
			for _, p := range n.Ports {
				if got[p.UUID] != [2]string{p.InternalVIF, p.ExtraVIF} {
					t.Errorf("port %s: Ironic records (internal, extra) %q, want %q", p.UUID, got[p.UUID], [2]string{p.InternalVIF, p.ExtraVIF})
				}
			}
			got = ironicVIFs(ctx, t, c, "/v1/portgroups?detail=true&node="+n.UUID, "portgroups")
			for _, pg := range n.Portgroups {
				if got[pg.UUID] != [2]string{pg.InternalVIF, pg.ExtraVIF} {
					t.Errorf("portgroup %s: Ironic records (internal, extra) %q, want %q", pg.UUID, got[pg.UUID], [2]string{pg.InternalVIF, pg.ExtraVIF})
				}
			}
		}
	})

	t.Run("helpers", func(t *testing.T) {
		if got, err := c.InstanceUUID(ctx, adoptable.UUID); err != nil || got != "" {
			t.Errorf("InstanceUUID(adoptable) = %q, %v; want none", got, err)
		}
		if got, err := c.InstanceUUID(ctx, associated.UUID); err != nil || got != associated.InstanceUUID {
			t.Errorf("InstanceUUID(associated) = %q, %v; want %s", got, err, associated.InstanceUUID)
		}

		const url = "http://images.example/web.qcow2"
		if err := c.SetImageSource(ctx, adoptable.UUID, url); err != nil {
			t.Fatal(err)
		}
		if err := c.SetMaintenance(ctx, adoptable.UUID, true); err != nil {
			t.Fatal(err)
		}
		var node struct {
			InstanceInfo map[string]any `json:"instance_info"`
			Maintenance  bool           `json:"maintenance"`
		}
		if err := c.Ironic.Fixture().Request(ctx, http.MethodGet, "/v1/nodes/"+adoptable.UUID, nil, &node); err != nil {
			t.Fatal(err)
		}
		if node.InstanceInfo["image_source"] != url || !node.Maintenance {
			t.Errorf("node after SetImageSource and SetMaintenance: image_source %v, maintenance %v", node.InstanceInfo["image_source"], node.Maintenance)
		}
		if err := c.SetMaintenance(ctx, adoptable.UUID, false); err != nil {
			t.Error(err)
		}

		vif := adoptable.Ports[0].NeutronPortID
		if host, vnic, err := c.Binding(ctx, vif); err != nil || host != "" || vnic != "normal" {
			t.Errorf("Binding(unbound VIF) = %q, %q, %v; want \"\", normal", host, vnic, err)
		}
		const mac = "52:54:00:ff:ff:01"
		if err := c.SetNeutronMAC(ctx, vif, mac); err != nil {
			t.Fatal(err)
		}
		if p, err := c.Neutron.GetPort(ctx, vif); err != nil || p.MAC != mac {
			t.Errorf("after SetNeutronMAC: MAC %q, %v; want %s", p.MAC, err, mac)
		}
		if err := c.DeleteNeutronPort(ctx, vif); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Binding(ctx, vif); !errors.Is(err, neutron.ErrNotFound) {
			t.Errorf("Binding(deleted VIF): err %v, want ErrNotFound", err)
		}
	})

	t.Run("attach sees the same cloud", func(t *testing.T) {
		a, err := cloud.Attach(dir)
		if err != nil {
			t.Fatal(err)
		}
		if a.Ironic.URL != c.Ironic.URL || a.Glance.URL != c.Glance.URL || a.Neutron.URL != c.Neutron.URL ||
			a.NetworkID != c.NetworkID || a.SubnetID != c.SubnetID || a.ShadowNetworkID != c.ShadowNetworkID {
			t.Errorf("Attach = %+v, want %+v", a, c)
		}
	})

	pids := append(append([]int{c.Ironic.PID}, c.Glance.Processes()...), c.Neutron.Processes()...)
	c.Stop()
	for _, pid := range pids {
		if proctest.Alive(pid) {
			t.Errorf("process %d still runs after Stop", pid)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cloud.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cloud.json after Stop: %v, want it removed", err)
	}
	if _, err := cloud.Attach(dir); err == nil {
		t.Error("Attach after Stop succeeded, want an error")
	}
}

// ironicVIFs lists ports or portgroups at path and returns each one's
// (internal_info.tenant_vif_port_id, extra.vif_port_id) by uuid.
func ironicVIFs(ctx context.Context, t *testing.T, c *cloud.Cloud, path, key string) map[string][2]string {
	t.Helper()
	var out map[string][]struct {
		UUID         string            `json:"uuid"`
		InternalInfo map[string]any    `json:"internal_info"`
		Extra        map[string]string `json:"extra"`
	}
	if err := c.Ironic.Fixture().Request(ctx, http.MethodGet, path, nil, &out); err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, p := range out[key] {
		internal, _ := p.InternalInfo["tenant_vif_port_id"].(string)
		got[p.UUID] = [2]string{internal, p.Extra["vif_port_id"]}
	}
	return got
}
