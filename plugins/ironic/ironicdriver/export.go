package ironicdriver

import (
	"context"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/nodefilter"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/inventory"
	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// A machine as a node create takes it (ironic/api/controllers/v1/node.py,
// node_schema and post): name, driver, driver_info, resource_class,
// properties, deploy_interface, instance_info, owner, lessee — plus its
// traits (which a create refuses: they go through the traits API) and its
// power state (a check the target makes, not a field). What Ironic
// computes or owns is never part of it: the provision, power and
// maintenance states, protection, driver_internal_info, the other
// hardware interfaces (the target's defaults), instance_uuid. Of
// properties, computedProperties are left out too.
var (
	exportFields = append(append([]string{}, nodeFields...),
		"driver", "driver_info", "properties", "traits", "deploy_interface", "protected")
	// owner needs microversion 1.50 and lessee 1.65: asked for only when
	// [ironic] api_version allows (an older one would refuse the field).
	ownerVersion, lesseeVersion = microversion{1, 50}, microversion{1, 65}

	exportPortFields      = append(append([]string{}, portFields...), "pxe_enabled", "physical_network", "portgroup_uuid")
	exportPortgroupFields = append(append([]string{}, portgroupFields...), "name")
)

// computedProperties are node properties Ironic's conductor writes
// itself: a new node gets its own. vendor is cached from the BMC at the
// first power or management action (ironic/conductor/utils.py,
// node_cache_vendor).
var computedProperties = []string{"vendor"}

// ironicMask is what Ironic shows in place of a value it hides
// (oslo.utils' strutils.mask_dict_password, called from
// api/controllers/v1/node.py for driver_info unless the caller may see
// secrets): a field named like a secret is masked whole, and a string
// that holds "password=…" or the like is masked in place.
const ironicMask = "******"

// redactedDriverInfo starts what Ironic shows instead of the whole
// driver_info to a caller without baremetal:node:get:driver_info.
const redactedDriverInfo = "** Redacted"

// exportNode is a node with what an export reads.
type exportNode struct {
	ironicNode
	Driver          string         `json:"driver"`
	DriverInfo      map[string]any `json:"driver_info"`
	Properties      map[string]any `json:"properties"`
	Traits          []string       `json:"traits"`
	DeployInterface string         `json:"deploy_interface"`
	Owner           string         `json:"owner"`
	Lessee          string         `json:"lessee"`
	Protected       bool           `json:"protected"`
}

// ExportNode reads the node, its ports and portgroups (at once) and
// describes it as a Machine: the driver_info fields Ironic masks are left
// out and named in Secrets, and each port's Neutron network and fixed IPs
// are read from its VIF when the driver's credentials reach a Neutron
// through the Keystone catalog (neutron.go). A node Ironic does not know
// is NotFound; the export reads only, whatever the node's state.
func (d *Driver) ExportNode(ctx context.Context, nodeUUID string) (driver.Export, error) {
	sc, err := d.serviceClient(ctx)
	if err != nil {
		return driver.Export{}, err
	}
	if err := checkUUID(nodeUUID); err != nil {
		return driver.Export{}, err
	}
	n, ps, pgs, err := readExport(ctx, sc, nodeUUID)
	if err != nil {
		return driver.Export{}, err
	}
	if info, redacted := n.DriverInfo["content"].(string); redacted && len(n.DriverInfo) == 1 && strings.HasPrefix(info, redactedDriverInfo) {
		return driver.Export{}, driver.Unavailable("%s showed node %s's driver_info redacted (%s): the driver's credentials need "+
			"the baremetal:node:get:driver_info policy to export a node", describe("ironic", sc.Endpoint), nodeUUID, info)
	}
	m := toMachine(n, ps, pgs)
	if err := d.addNetworks(ctx, m.Ports); err != nil {
		return driver.Export{}, err
	}
	requestid.Logger(ctx, d.log).Info("node exported", "node", nodeUUID, "ports", len(m.Ports), "portgroups", len(m.Portgroups), "secrets", m.Secrets)
	return driver.Export{
		Machine:     m,
		State:       stateOf(nodeUUID, &n.ironicNode),
		Maintenance: n.Maintenance,
		Protected:   n.Protected,
	}, nil
}

// readExport reads the node, its ports and its portgroups concurrently.
func readExport(ctx context.Context, sc *gophercloud.ServiceClient, nodeUUID string) (*exportNode, []ironicPort, []ironicPortgroup, error) {
	fields := slices.Clone(exportFields)
	if mv, err := parseMicroversion(sc.Microversion); err == nil {
		if !mv.less(ownerVersion) {
			fields = append(fields, "owner")
		}
		if !mv.less(lesseeVersion) {
			fields = append(fields, "lessee")
		}
	}
	var n exportNode
	var ps []ironicPort
	var pgs []ironicPortgroup
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return nodefilter.Get(gctx, sc, nodeUUID, fields).ExtractInto(&n) })
	g.Go(func() error {
		page, err := nodeItems(gctx, sc, "ports", nodeUUID, exportPortFields)
		if err == nil {
			ps = page.Ports
		}
		return err
	})
	g.Go(func() error {
		page, err := nodeItems(gctx, sc, "portgroups", nodeUUID, exportPortgroupFields)
		if err == nil {
			pgs = page.Portgroups
		}
		return err
	})
	if err := g.Wait(); err != nil {
		if gophercloud.ResponseCodeIs(err, 404) {
			return nil, nil, nil, driver.NotFound("node %s not found in Ironic", nodeUUID)
		}
		return nil, nil, nil, classify(err, "ironic", sc.Endpoint)
	}
	return &n, ps, pgs, nil
}

// toMachine describes an Ironic node, with its ports and portgroups, as
// the machine a target enrolls.
//
// A bond's VIF is its portgroup's in Ironic, and a Machine has no network
// for a portgroup: the member port whose MAC is the portgroup's (the
// bond's MAC, usually its first member's) takes the portgroup's VIF when
// it has none of its own, so the bond's network and addresses reach the
// target with that MAC.
func toMachine(n *exportNode, ps []ironicPort, pgs []ironicPortgroup) driver.Machine {
	m := driver.Machine{
		Name:            n.Name,
		Driver:          n.Driver,
		ResourceClass:   n.ResourceClass,
		Traits:          n.Traits,
		DeployInterface: n.DeployInterface,
		Owner:           n.Owner,
		Lessee:          n.Lessee,
	}
	m.DriverInfo, m.Secrets = splitSecrets(n.DriverInfo)
	if len(n.Properties) > 0 {
		m.Properties = make(map[string]any, len(n.Properties))
		for k, v := range n.Properties {
			if !slices.Contains(computedProperties, k) {
				m.Properties[k] = v
			}
		}
	}
	if s, ok := n.InstanceInfo.ImageSource.(string); ok {
		m.Image = s
	}
	// Only a reading: "error" or none is no state to check a target's
	// reading against.
	if n.PowerState == "power on" || n.PowerState == "power off" {
		m.PowerState = n.PowerState
	}
	bondVIF := map[string]string{} // MAC → its portgroup's VIF
	for _, pg := range pgs {
		if vif := pg.neutronPortID(); vif != "" {
			bondVIF[strings.ToLower(pg.Address)] = vif
		}
	}
	for _, p := range ps {
		port := driver.MachinePort{MAC: p.Address, PXEEnabled: p.PXEEnabled, PhysicalNetwork: p.PhysicalNetwork, NeutronPortID: p.neutronPortID()}
		if port.NeutronPortID == "" && p.PortgroupUUID != "" {
			port.NeutronPortID = bondVIF[strings.ToLower(p.Address)]
		}
		m.Ports = append(m.Ports, port)
	}
	for _, pg := range pgs {
		g := driver.MachinePortgroup{Name: pg.Name, MAC: pg.Address, Mode: pg.Mode}
		for _, p := range ps {
			if p.PortgroupUUID == pg.UUID {
				g.Ports = append(g.Ports, p.Address)
			}
		}
		m.Portgroups = append(m.Portgroups, g)
	}
	return m
}

// splitSecrets separates the driver_info fields Ironic masks — named as
// secrets (inventory.IsSecretField, the names oslo.utils masks whole), or
// holding the mask (a string masked in place, a nested value masked
// inside) — from the others. The secrets are named, in order, never
// copied: Ironic shows only the mask, and the operator supplies them.
func splitSecrets(info map[string]any) (rest map[string]any, secrets []string) {
	if len(info) == 0 {
		return nil, nil
	}
	rest = make(map[string]any, len(info))
	for k, v := range info {
		if inventory.IsSecretField(k) || holdsMask(v) {
			secrets = append(secrets, k)
			continue
		}
		rest[k] = v
	}
	slices.Sort(secrets)
	return rest, secrets
}

// holdsMask reports whether Ironic masked some of v.
func holdsMask(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.Contains(v, ironicMask)
	case map[string]any:
		for _, e := range v {
			if holdsMask(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if holdsMask(e) {
				return true
			}
		}
	}
	return false
}
