package cloud

import (
	"context"
	"fmt"
	"net/http"

	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// Enroll enrolls mix in Ironic (see ironic.Fixture.Enroll). With Glance,
// each adoptable node's instance_info.image_source is an image created in
// Glance, a fresh one per node. With Neutron, every VIF recorded on an
// adoptable node's ports and portgroups is a real Neutron port with that
// port's or portgroup's MAC and a fixed IP from the subnet: on NetworkID
// for the VIF a driver reports (Port.NeutronPortID), on ShadowNetworkID
// for a portgroup's extra VIF that internal_info overrides. Other nodes
// keep VIFs and images that exist nowhere.
func (c *Cloud) Enroll(ctx context.Context, mix ironic.Mix) ([]ironic.Node, error) {
	return c.EnrollIn(ctx, c.Ironic, mix)
}

// EnrollIn is Enroll into another Ironic than the cloud's own (a second
// backend's), its nodes' images in this cloud's Glance and their VIFs in
// this cloud's Neutron, as one region's services shared by two Ironics.
func (c *Cloud) EnrollIn(ctx context.Context, in *ironic.Server, mix ironic.Mix) ([]ironic.Node, error) {
	f := in.Fixture()
	if c.Neutron != nil {
		f.NewVIF = func(ctx context.Context, mac string, shadowed bool) (string, error) {
			network := c.NetworkID
			if shadowed {
				network = c.ShadowNetworkID
			}
			p, err := c.Neutron.CreatePort(ctx, network, mac)
			if err != nil {
				return "", fmt.Errorf("creating the VIF for %s: %w", mac, err)
			}
			return p.ID, nil
		}
	}
	nodes, err := f.Enroll(ctx, mix)
	if err != nil || c.Glance == nil {
		return nodes, err
	}
	// The fixture picked a fresh uuid as each node's image_source; Glance
	// takes an image's id from its creator, so the image gets that one.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, n := range nodes {
		if n.Kind != ironic.KindAdoptable {
			continue
		}
		g.Go(func() error {
			if err := c.Glance.CreateImage(gctx, n.ImageSource, "image-of-"+n.Name); err != nil {
				return fmt.Errorf("creating the image of node %s: %w", n.UUID, err)
			}
			return nil
		})
	}
	return nodes, g.Wait()
}

// ironicRequest is one request to Ironic at the newest microversion.
func (c *Cloud) ironicRequest(ctx context.Context, method, path string, body, out any) error {
	return c.Ironic.Fixture().Request(ctx, method, path, body, out)
}

// SetImageSource sets the node's instance_info.image_source, e.g. to a URL
// or to a uuid Glance does not know.
func (c *Cloud) SetImageSource(ctx context.Context, nodeUUID, source string) error {
	patch := []map[string]string{{"op": "add", "path": "/instance_info/image_source", "value": source}}
	return c.ironicRequest(ctx, http.MethodPatch, "/v1/nodes/"+nodeUUID, patch, nil)
}

// InstanceUUID is the node's instance_uuid as Ironic has it; "" when none.
func (c *Cloud) InstanceUUID(ctx context.Context, nodeUUID string) (string, error) {
	var n struct {
		InstanceUUID *string `json:"instance_uuid"`
	}
	if err := c.ironicRequest(ctx, http.MethodGet, "/v1/nodes/"+nodeUUID+"?fields=instance_uuid", nil, &n); err != nil {
		return "", err
	}
	if n.InstanceUUID == nil {
		return "", nil
	}
	return *n.InstanceUUID, nil
}

// SetMaintenance puts the node into maintenance (on) or takes it out.
func (c *Cloud) SetMaintenance(ctx context.Context, nodeUUID string, on bool) error {
	if on {
		return c.ironicRequest(ctx, http.MethodPut, "/v1/nodes/"+nodeUUID+"/maintenance",
			map[string]string{"reason": "set by a test"}, nil)
	}
	return c.ironicRequest(ctx, http.MethodDelete, "/v1/nodes/"+nodeUUID+"/maintenance", nil, nil)
}

// SetNeutronMAC gives a Neutron port another MAC, so that it no longer
// matches the Ironic port that records it as VIF: a manage then answers
// 409 naming both. (Neutron allows it while the port is unbound; Ironic
// refuses to change the address of a port of an active node.)
func (c *Cloud) SetNeutronMAC(ctx context.Context, portID, mac string) error {
	if c.Neutron == nil {
		return fmt.Errorf("change the MAC of %s: this cloud has no Neutron (Options.Neutron)", portID)
	}
	body := map[string]any{"port": map[string]any{"mac_address": mac}}
	return c.Neutron.Request(ctx, http.MethodPut, "/ports/"+portID, body, nil)
}

// Binding is the port's binding:host_id and binding:vnic_type in Neutron.
func (c *Cloud) Binding(ctx context.Context, portID string) (hostID, vnicType string, err error) {
	if c.Neutron == nil {
		return "", "", fmt.Errorf("binding of %s: this cloud has no Neutron (Options.Neutron)", portID)
	}
	p, err := c.Neutron.GetPort(ctx, portID)
	return p.HostID, p.VNICType, err
}

// DeleteNeutronPort deletes a VIF from Neutron, leaving Ironic's record
// of it: the host then reports that neutron_port_id as null and skips it.
func (c *Cloud) DeleteNeutronPort(ctx context.Context, portID string) error {
	if c.Neutron == nil {
		return fmt.Errorf("delete port %s: this cloud has no Neutron (Options.Neutron)", portID)
	}
	return c.Neutron.DeletePort(ctx, portID)
}

// BulkEnrollIn adds n adoptable nodes to in (c.Ironic or another) as
// ironic.Fixture.BulkLoad does with opts — one node enrolled through the
// API, the rest copied in Ironic's database, each with two ports, one
// recording its VIF in internal_info and one in extra, or the first alone
// (opts.OnePort) — and, with Neutron, gives each port's VIF a real
// Neutron port on network (NetworkID when "") with the port's MAC,
// created in bulk: a node costs a fraction of Enroll's, whose Neutron
// ports are made one at a time, four a node. (Portgroups' VIFs are left
// naming nothing.) The copies' MACs follow their row ids, so two Ironics'
// copies share MACs: give each its own network (Neutron refuses a MAC
// twice on one). With Glance, each node's image is created as Enroll
// does. Calls for two Ironics may run at once: their Neutron ports are
// made one call after the other.
func (c *Cloud) BulkEnrollIn(ctx context.Context, in *ironic.Server, n int, network string, opts ironic.BulkOptions) ([]ironic.Node, error) {
	if network == "" {
		network = c.NetworkID
	}
	f := in.Fixture()
	nodes, err := f.BulkLoad(ctx, n, opts)
	if err != nil || c.Neutron == nil {
		return nodes, err
	}
	var macs []string
	for _, node := range nodes {
		for _, p := range node.Ports {
			if p.NeutronPortID != "" {
				macs = append(macs, p.Address)
			}
		}
	}
	c.bulkPorts.Lock()
	ports, err := c.Neutron.CreatePorts(ctx, network, macs)
	c.bulkPorts.Unlock()
	if err != nil {
		return nil, fmt.Errorf("creating the VIFs: %w", err)
	}
	byMAC := map[string]string{}
	for _, p := range ports {
		byMAC[p.MAC] = p.ID
	}
	renamed := map[string]string{}
	for i := range nodes {
		for j := range nodes[i].Ports {
			p := &nodes[i].Ports[j]
			if p.NeutronPortID == "" {
				continue
			}
			id, ok := byMAC[p.Address]
			if !ok {
				return nil, fmt.Errorf("neutron made no port with MAC %s", p.Address)
			}
			renamed[p.NeutronPortID] = id
			if p.InternalVIF == p.NeutronPortID {
				p.InternalVIF = id
			}
			if p.ExtraVIF == p.NeutronPortID {
				p.ExtraVIF = id
			}
			p.NeutronPortID = id
		}
	}
	if err := f.ReplaceVIFs(ctx, renamed); err != nil {
		return nil, err
	}
	if c.Glance == nil {
		return nodes, nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, node := range nodes {
		g.Go(func() error {
			if err := c.Glance.CreateImage(gctx, node.ImageSource, "image-of-"+node.Name); err != nil {
				return fmt.Errorf("creating the image of node %s: %w", node.UUID, err)
			}
			return nil
		})
	}
	return nodes, g.Wait()
}
