package manage

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mogan-manage/mogan-manage/host/internal/glance"
	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// Binding vnic types: a bare metal port's, and Neutron's default.
const (
	vnicBaremetal = "baremetal"
	vnicNormal    = "normal"
)

// Plan is everything an adoption would do, decided by reads alone: the
// node as the driver re-validated it, the image, the Neutron ports to bind
// and the server that would be recorded. Executing it is the only part
// that writes; a dry run is a plan without its execution.
type Plan struct {
	// Server is the server the adoption would record (no uuid yet).
	Server Server
	Node   Node
	// ImageUUID is the Glance image (or, without Glance, the node's
	// image_source as it is); "" for none.
	ImageUUID string
	// Bindings are the Neutron ports to bind, with their binding now.
	Bindings []PortBinding
}

// PortBinding is one Neutron port of the node and its current binding.
type PortBinding struct {
	PortID     string `json:"port_id"`
	NetworkID  string `json:"network_id"`
	MACAddress string `json:"mac_address"`
	// The node port or portgroup it belongs to.
	NodePortUUID string `json:"node_port_uuid"`
	// The binding before the adoption, restored by its undo.
	PrevHostID   string `json:"prev_host_id"`
	PrevVNICType string `json:"prev_vnic_type"`
}

// uuidLike is what Glance could know as an image id (upstream Mogan's
// uuidutils.is_uuid_like); anything else — a URL, a path — is no image.
var uuidLike = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// Plan makes every check an adoption of req would make — the node not
// already held by a server, the driver's re-validation, the image, the
// Neutron ports and their MACs — and returns what it would do, changing
// nothing: the same errors as Adopt, no claim, no notification.
func (s *Service) Plan(ctx context.Context, req Request) (Plan, error) {
	switch _, err := s.store.ServerByNode(ctx, req.NodeUUID); {
	case err == nil:
		return Plan{}, alreadyManaged(req.NodeUUID)
	case !errors.Is(err, store.ErrNotFound):
		return Plan{}, storeError(err)
	}
	switch claims, err := s.store.ClaimedNodes(ctx, []string{req.NodeUUID}); {
	case err != nil:
		return Plan{}, storeError(err)
	case claims[req.NodeUUID] != "":
		return Plan{}, beingMigrated(req.NodeUUID, fmt.Errorf("migration %s", claims[req.NodeUUID]))
	}
	b, err := s.backendFor(ctx, req)
	if err != nil {
		return Plan{}, err
	}
	return s.plan(ctx, b, req)
}

// backendFor is the backend an adoption acts on: the one the request
// names (400 when unknown), else the one holding the node.
func (s *Service) backendFor(ctx context.Context, req Request) (Backend, error) {
	if req.Backend != "" {
		bs, err := s.listed(ctx, req.Backend)
		if err != nil {
			return Backend{}, err
		}
		return bs[0], nil
	}
	return s.findNode(ctx, req.NodeUUID)
}

// beingMigrated refuses a node a migration holds.
func beingMigrated(nodeUUID string, err error) error {
	return &refusal{kind: ErrConflict, msg: fmt.Sprintf(
		"Node %s is being migrated (%v): wait for the migration to end (GET /v1/migrations).", nodeUUID, err)}
}

func alreadyManaged(nodeUUID string) error {
	return &refusal{kind: ErrConflict, msg: fmt.Sprintf("Node %s is already managed by another server.", nodeUUID)}
}

// plan re-validates the node through the backend's driver and checks its
// image and ports, without changing anything.
func (s *Service) plan(ctx context.Context, b Backend, req Request) (Plan, error) {
	nodeUUID := req.NodeUUID
	if err := canAdopt(ctx, b.Driver); err != nil {
		return Plan{}, err
	}
	node, err := b.Driver.GetManageableNode(ctx, nodeUUID)
	if err != nil {
		return Plan{}, err
	}
	if !node.Manageable {
		return Plan{}, driver.NotManageable(nodeUUID, reasonOr(node.Reason))
	}
	p := Plan{Node: node}
	if p.ImageUUID, err = s.imageOf(ctx, node.ImageSource); err != nil {
		return Plan{}, err
	}
	var ports []neutron.Port
	if p.Bindings, ports, err = s.portsToBind(ctx, node); err != nil {
		return Plan{}, err
	}
	p.Server = serverFromRecord(newRecord(req, s.now()))
	p.Server.UUID, p.Server.Backend = "", b.Name
	p.Server.Status = statusFor(node.PowerState)
	p.Server.PowerState = node.PowerState
	p.Server.NodeName = node.Name
	p.Server.ImageUUID = p.ImageUUID
	p.Server.Addresses = addressesOf(ports)
	return p, nil
}

// canAdopt refuses with 501 when the driver says it cannot adopt (it
// lists "discover" but not "adopt" among its capabilities), as its Manage
// would: without it a dry run of such a driver answered 200 "would adopt"
// while the real call answered 501, and the real call claimed the node and
// bound its ports before finding out. A driver that reports no
// capabilities at all (an in-process one that is not behind the SDK's
// server) is taken at its word when it is called.
func canAdopt(ctx context.Context, drv driver.Full) error {
	info, err := drv.Info(ctx)
	if err != nil {
		return err
	}
	if len(info.Capabilities) > 0 && !slices.Contains(info.Capabilities, driver.CapabilityAdopt) {
		return driver.NotImplemented("managing a node")
	}
	return nil
}

func reasonOr(reason string) string {
	if reason == "" {
		return "the driver gave no reason"
	}
	return reason
}

// imageOf is the server's image_uuid for a node's image_source: without
// Glance the source as it is; with Glance the id when Glance knows it,
// else none (a URL, an unknown id).
func (s *Service) imageOf(ctx context.Context, source string) (string, error) {
	if s.images == nil || source == "" {
		return source, nil
	}
	if !uuidLike.MatchString(source) {
		return "", nil
	}
	found, err := s.images.Existing(ctx, []string{source})
	if err != nil {
		return "", upstreamError(err)
	}
	if found[source] {
		return source, nil
	}
	return "", nil
}

// portsToBind looks up the node's Neutron ports (ports and portgroups)
// and checks each existing one carries the node port's MAC, as upstream
// Mogan's _manage_server does. Unknown ports are skipped.
func (s *Service) portsToBind(ctx context.Context, node Node) ([]PortBinding, []neutron.Port, error) {
	if s.networks == nil {
		return nil, nil, nil
	}
	type nodePort struct{ uuid, address, neutronID string }
	var wanted []nodePort
	for _, p := range node.Ports {
		if p.NeutronPortID != "" {
			wanted = append(wanted, nodePort{p.UUID, p.Address, p.NeutronPortID})
		}
	}
	for _, pg := range node.Portgroups {
		if pg.NeutronPortID != "" {
			wanted = append(wanted, nodePort{pg.UUID, pg.Address, pg.NeutronPortID})
		}
	}
	if len(wanted) == 0 {
		return nil, nil, nil
	}
	ids := make([]string, len(wanted))
	for i, w := range wanted {
		ids[i] = w.neutronID
	}
	found, err := s.networks.Ports(ctx, ids)
	if err != nil {
		return nil, nil, upstreamError(err)
	}
	tombstones, err := s.store.BindingTombstonesOf(ctx, ids, s.now().Add(-s.retention))
	if err != nil {
		return nil, nil, storeError(err)
	}
	var out []PortBinding
	var ports []neutron.Port
	for _, w := range wanted {
		np, ok := found[w.neutronID]
		if !ok {
			continue
		}
		prevHost, prevVNIC := np.HostID, np.VNICType
		if np.HostID == node.UUID {
			// Bound to this very node already: by a request of ours that
			// landed late, or by nobody we know. The node is never what
			// the port had "before us": its tombstone's binding, else
			// unbound.
			prevHost, prevVNIC = "", vnicNormal
			if t, ok := tombstones[np.ID]; ok {
				prevHost, prevVNIC = t.PrevHostID, t.PrevVNICType
			}
		}
		if !strings.EqualFold(np.MACAddress, w.address) {
			return nil, nil, driver.Conflict("Neutron port %s has MAC address %s, but node %s port %s has %s: "+
				"record the right Neutron port in the node port's extra.vif_port_id, or fix the Neutron port's MAC",
				np.ID, np.MACAddress, node.UUID, w.uuid, w.address)
		}
		out = append(out, PortBinding{
			PortID: np.ID, NetworkID: np.NetworkID, MACAddress: np.MACAddress, NodePortUUID: w.uuid,
			PrevHostID: prevHost, PrevVNICType: prevVNIC,
		})
		ports = append(ports, np)
	}
	return out, ports, nil
}

// upstreamError makes Glance's or Neutron's unavailability one of our
// kinds (503), keeping its message, which names the service and URL; a
// Neutron port deleted between the plan and its binding is a conflict
// (409), not a fault of the host.
func upstreamError(err error) error {
	switch {
	case errors.Is(err, glance.ErrUnavailable) || errors.Is(err, neutron.ErrUnavailable):
		return &refusal{kind: ErrUnavailable, msg: err.Error()}
	case errors.Is(err, neutron.ErrPortNotFound):
		return &refusal{kind: ErrConflict, msg: err.Error() + ": it was deleted during the adoption; adopt the node again"}
	}
	return fmt.Errorf("%w", err)
}

// addressesOf are the server's addresses: the fixed IPs of its bound
// ports, by network id, in upstream Mogan's shape.
func addressesOf(ports []neutron.Port) map[string][]Address {
	out := map[string][]Address{}
	for _, p := range ports {
		for _, ip := range p.FixedIPs {
			out[p.NetworkID] = append(out[p.NetworkID], Address{Addr: ip.IPAddress, Type: "fixed"})
		}
		if _, ok := out[p.NetworkID]; !ok {
			out[p.NetworkID] = []Address{}
		}
	}
	return out
}
