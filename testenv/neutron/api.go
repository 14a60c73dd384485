package neutron

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// ErrNotFound is returned when Neutron answers 404.
var ErrNotFound = errors.New("neutron: not found")

// FixedIP is one address of a port.
type FixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// Port is a Neutron port with its binding.
type Port struct {
	ID        string    `json:"id"`
	NetworkID string    `json:"network_id"`
	MAC       string    `json:"mac_address"`
	FixedIPs  []FixedIP `json:"fixed_ips"`
	HostID    string    `json:"binding:host_id"`
	VNICType  string    `json:"binding:vnic_type"`
	VIFType   string    `json:"binding:vif_type"`
}

// CreateNetwork creates a flat network on PhysicalNetwork and returns its id.
func (n *Neutron) CreateNetwork(ctx context.Context, name string) (string, error) {
	body := map[string]any{"network": map[string]any{
		"name":                      name,
		"provider:network_type":     "flat",
		"provider:physical_network": PhysicalNetwork,
	}}
	var out struct{ Network struct{ ID string } }
	err := n.Request(ctx, http.MethodPost, "/networks", body, &out)
	return out.Network.ID, err
}

// CreateTenantNetwork creates a network of Neutron's tenant type (a VLAN
// of PhysicalNetwork, its segment Neutron's choice) and returns its id:
// as many as a test wants, where flat ones are one per physical network.
func (n *Neutron) CreateTenantNetwork(ctx context.Context, name string) (string, error) {
	body := map[string]any{"network": map[string]any{"name": name}}
	var out struct{ Network struct{ ID string } }
	err := n.Request(ctx, http.MethodPost, "/networks", body, &out)
	return out.Network.ID, err
}

// CreateSubnet creates an IPv4 subnet with cidr (e.g. "10.0.0.0/24") on
// the network and returns its id.
func (n *Neutron) CreateSubnet(ctx context.Context, networkID, cidr string) (string, error) {
	body := map[string]any{"subnet": map[string]any{
		"network_id": networkID, "cidr": cidr, "ip_version": 4,
	}}
	var out struct{ Subnet struct{ ID string } }
	err := n.Request(ctx, http.MethodPost, "/subnets", body, &out)
	return out.Subnet.ID, err
}

// CreatePort creates an unbound port with the given MAC on the network;
// Neutron picks its fixed IP from the network's subnet.
func (n *Neutron) CreatePort(ctx context.Context, networkID, mac string) (Port, error) {
	body := map[string]any{"port": map[string]any{"network_id": networkID, "mac_address": mac}}
	var out struct{ Port Port }
	err := n.Request(ctx, http.MethodPost, "/ports", body, &out)
	return out.Port, err
}

// CreatePorts creates an unbound port on the network for each MAC, in
// bulk requests of at most 20 (Neutron's bulk create, several times
// faster a port than one at a time), and returns them in the order of
// macs; Neutron picks their fixed IPs.
func (n *Neutron) CreatePorts(ctx context.Context, networkID string, macs []string) ([]Port, error) {
	out := make([]Port, 0, len(macs))
	for start := 0; start < len(macs); start += 20 {
		var ports []map[string]any
		for _, mac := range macs[start:min(start+20, len(macs))] {
			ports = append(ports, map[string]any{"network_id": networkID, "mac_address": mac})
		}
		var created struct{ Ports []Port }
		if err := n.Request(ctx, http.MethodPost, "/ports", map[string]any{"ports": ports}, &created); err != nil {
			return out, err
		}
		if len(created.Ports) != len(ports) {
			return out, fmt.Errorf("neutron: a bulk create of %d ports made %d", len(ports), len(created.Ports))
		}
		out = append(out, created.Ports...)
	}
	return out, nil
}

// GetPort returns a port as Neutron stores it; a missing one is ErrNotFound.
func (n *Neutron) GetPort(ctx context.Context, id string) (Port, error) {
	var out struct{ Port Port }
	err := n.Request(ctx, http.MethodGet, "/ports/"+id, nil, &out)
	return out.Port, err
}

// BindPort sets the port's binding:host_id and binding:vnic_type, as Nova
// or Mogan do, and returns the port as Neutron answers.
func (n *Neutron) BindPort(ctx context.Context, id, hostID, vnicType string) (Port, error) {
	body := map[string]any{"port": map[string]any{
		"binding:host_id": hostID, "binding:vnic_type": vnicType,
	}}
	var out struct{ Port Port }
	err := n.Request(ctx, http.MethodPut, "/ports/"+id, body, &out)
	return out.Port, err
}

// DeletePort deletes a port; a missing one is ErrNotFound.
func (n *Neutron) DeletePort(ctx context.Context, id string) error {
	return n.Request(ctx, http.MethodDelete, "/ports/"+id, nil, nil)
}

// Request calls the v2.0 API (path relative to it, e.g. "/ports"), sending
// body as JSON when it is not nil and decoding a JSON answer into out when
// out is not nil. A 404 is ErrNotFound; any other status outside 2xx is an
// error carrying Neutron's answer.
func (n *Neutron) Request(ctx context.Context, method, path string, body, out any) error {
	return n.api.Request(ctx, method, path, body, out)
}
