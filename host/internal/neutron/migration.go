package neutron

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// What a migration needs of Neutron: the network a machine's NIC is
// described on, by name or id; its port, reused when one with its MAC
// exists there, else created with its fixed IPs; and the port deleted
// again when the migration is undone.

// More errors of Neutron lookups, each naming what was asked.
var (
	// ErrNetworkNotFound: no network has that name or id.
	ErrNetworkNotFound = errors.New("neutron network not found")
	// ErrNetworkAmbiguous: several networks have that name.
	ErrNetworkAmbiguous = errors.New("several neutron networks have that name")
	// ErrAddressInUse: a fixed IP is held by a port with another MAC, or
	// the MAC by a port on another network.
	ErrAddressInUse = errors.New("address in use in neutron")
)

// Network is a Neutron network.
type Network struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ResolveNetwork finds the network named or identified by nameOrID: an id
// first, else a unique name (ErrNetworkAmbiguous naming the ids when
// several networks have it).
func (c *Client) ResolveNetwork(ctx context.Context, nameOrID string) (Network, error) {
	const op = "network lookup"
	sc, err := c.neutron.Client(ctx, op)
	if err != nil {
		return Network{}, err
	}
	var found []Network
	list := func(opts networks.ListOpts) error {
		return networks.List(sc, opts).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
			var got []Network
			if err := networks.ExtractNetworksInto(page, &got); err != nil {
				return false, err
			}
			found = append(found, got...)
			return true, nil
		})
	}
	if uuidLike.MatchString(nameOrID) {
		if err := list(networks.ListOpts{ID: nameOrID}); err != nil {
			return Network{}, c.neutron.Classify(ctx, op, err)
		}
	}
	if len(found) == 0 {
		if err := list(networks.ListOpts{Name: nameOrID}); err != nil {
			return Network{}, c.neutron.Classify(ctx, op, err)
		}
	}
	switch len(found) {
	case 0:
		return Network{}, fmt.Errorf("%w: no network is named or has the id %q %s", ErrNetworkNotFound, nameOrID, c.neutron.Where())
	case 1:
		return found[0], nil
	}
	ids := make([]string, len(found))
	for i, n := range found {
		ids[i] = n.ID
	}
	return Network{}, fmt.Errorf("%w: %q names networks %s; give the network's id", ErrNetworkAmbiguous, nameOrID, strings.Join(ids, ", "))
}

// PortsByMAC lists the ports with this MAC address, on any network.
func (c *Client) PortsByMAC(ctx context.Context, mac string) ([]Port, error) {
	return c.listPorts(ctx, "port lookup by MAC", ports.ListOpts{MACAddress: mac})
}

// PortsByFixedIP lists the ports of a network holding this fixed IP.
func (c *Client) PortsByFixedIP(ctx context.Context, networkID, ip string) ([]Port, error) {
	return c.listPorts(ctx, "port lookup by fixed IP", ports.ListOpts{
		NetworkID: networkID, FixedIPs: []ports.FixedIPOpts{{IPAddress: ip}},
	})
}

func (c *Client) listPorts(ctx context.Context, op string, opts ports.ListOpts) ([]Port, error) {
	sc, err := c.neutron.Client(ctx, op)
	if err != nil {
		return nil, err
	}
	var out []Port
	err = ports.List(sc, opts).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
		var got []Port
		if err := ports.ExtractPortsInto(page, &got); err != nil {
			return false, err
		}
		out = append(out, got...)
		return true, nil
	})
	if err != nil {
		return nil, c.neutron.Classify(ctx, op, err)
	}
	return out, nil
}

// CreatePort creates an unbound port on a network with a MAC and fixed IPs
// (none: Neutron's choice), named after what it is for. A fixed IP or MAC
// already held is ErrAddressInUse naming it.
func (c *Client) CreatePort(ctx context.Context, name, networkID, mac string, fixedIPs []string) (Port, error) {
	op := "creating a port with MAC " + mac
	sc, err := c.neutron.Client(ctx, op)
	if err != nil {
		return Port{}, err
	}
	opts := ports.CreateOpts{NetworkID: networkID, Name: name, MACAddress: mac}
	if len(fixedIPs) > 0 {
		ips := make([]ports.IP, len(fixedIPs))
		for i, ip := range fixedIPs {
			ips[i] = ports.IP{IPAddress: ip}
		}
		opts.FixedIPs = ips
	}
	var p Port
	err = ports.Create(ctx, sc, opts).ExtractInto(&p)
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) && code.Actual == 409 {
		typ, msg := neutronError(code.Body)
		return Port{}, fmt.Errorf("%w: %s (%s) %s", ErrAddressInUse, msg, typ, c.neutron.Where())
	}
	if err != nil {
		return Port{}, c.neutron.Classify(ctx, op, err)
	}
	c.log.Debug("created port", "port", p.ID, "network", networkID, "mac", mac)
	return p, nil
}

// DeletePort deletes a port; one already gone is success.
func (c *Client) DeletePort(ctx context.Context, portID string) error {
	op := "deleting port " + portID
	sc, err := c.neutron.Client(ctx, op)
	if err != nil {
		return err
	}
	err = ports.Delete(ctx, sc, portID).ExtractErr()
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil
	}
	if err != nil {
		return c.neutron.Classify(ctx, op, err)
	}
	c.log.Debug("deleted port", "port", portID)
	return nil
}
