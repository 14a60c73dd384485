package ironicdriver

import (
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// The fields the driver asks Ironic for, and the shapes it decodes them
// into: nothing more is fetched or parsed.
var (
	nodeFields      = []string{"uuid", "name", "resource_class", "power_state", "provision_state", "instance_uuid", "maintenance", "instance_info"}
	portFields      = []string{"uuid", "address", "node_uuid", "extra", "internal_info"}
	portgroupFields = []string{"uuid", "address", "node_uuid", "mode", "extra", "internal_info"}
)

type ironicNode struct {
	UUID           string       `json:"uuid"`
	Name           string       `json:"name"`
	ResourceClass  string       `json:"resource_class"`
	PowerState     string       `json:"power_state"`
	ProvisionState string       `json:"provision_state"`
	InstanceUUID   string       `json:"instance_uuid"`
	Maintenance    bool         `json:"maintenance"`
	InstanceInfo   instanceInfo `json:"instance_info"`
}

type instanceInfo struct {
	// ImageSource is usually a Glance UUID or a URL; anything else is
	// ignored rather than failing the whole listing.
	ImageSource any `json:"image_source"`
}

// vifInfo holds the two places Ironic records a port's VIF.
type vifInfo struct {
	Extra struct {
		VIFPortID any `json:"vif_port_id"`
	} `json:"extra"`
	InternalInfo struct {
		TenantVIFPortID any `json:"tenant_vif_port_id"`
	} `json:"internal_info"`
}

// neutronPortID is the VIF Ironic attached (internal_info), else the one an
// operator recorded by hand (extra), else none.
func (v vifInfo) neutronPortID() string {
	if s, ok := v.InternalInfo.TenantVIFPortID.(string); ok && s != "" {
		return s
	}
	if s, ok := v.Extra.VIFPortID.(string); ok {
		return s
	}
	return ""
}

type ironicPort struct {
	UUID     string `json:"uuid"`
	Address  string `json:"address"`
	NodeUUID string `json:"node_uuid"`
	vifInfo
	// Read by ExportNode only (export.go); the listing never asks for them.
	PXEEnabled      *bool  `json:"pxe_enabled"`
	PhysicalNetwork string `json:"physical_network"`
	PortgroupUUID   string `json:"portgroup_uuid"`
}

type ironicPortgroup struct {
	UUID     string `json:"uuid"`
	Address  string `json:"address"`
	NodeUUID string `json:"node_uuid"`
	Mode     string `json:"mode"`
	vifInfo
	// Read by ExportNode only (export.go).
	Name string `json:"name"`
}

// toNode converts an Ironic node with its ports and portgroups, and judges
// whether it can be managed.
func toNode(n *ironicNode, ports []ironicPort, pgs []ironicPortgroup) driver.Node {
	out := driver.Node{
		UUID:           n.UUID,
		Name:           n.Name,
		ResourceClass:  n.ResourceClass,
		PowerState:     n.PowerState,
		ProvisionState: n.ProvisionState,
		InstanceUUID:   n.InstanceUUID,
		Ports:          make([]driver.Port, 0, len(ports)),
		Portgroups:     make([]driver.Portgroup, 0, len(pgs)),
	}
	if s, ok := n.InstanceInfo.ImageSource.(string); ok {
		out.ImageSource = s
	}
	for _, p := range ports {
		out.Ports = append(out.Ports, driver.Port{UUID: p.UUID, Address: p.Address, NeutronPortID: p.neutronPortID()})
	}
	for _, pg := range pgs {
		out.Portgroups = append(out.Portgroups, driver.Portgroup{
			UUID: pg.UUID, Address: pg.Address, Mode: pg.Mode, NeutronPortID: pg.neutronPortID(),
		})
	}
	out.Reason = unmanageableReason(n)
	out.Manageable = out.Reason == ""
	return out
}
