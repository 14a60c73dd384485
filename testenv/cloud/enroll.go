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
	f := c.Ironic.Fixture()
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
