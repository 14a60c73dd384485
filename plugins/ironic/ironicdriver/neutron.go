package ironicdriver

import (
	"context"
	"errors"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/osclient"
	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// neutronLink is the way to the Neutron of Ironic's cloud, for an export:
// found in the Keystone catalog the driver's credentials (password, or a
// clouds.yaml cloud) give, whatever [ironic] url says. Without Keystone
// (auth_type none or http_basic), or with a catalog that has no network
// service, there is none, and an export leaves each port's network to the
// migration's network_map.
type neutronLink struct {
	mu sync.Mutex
	// cfg is the configuration client was made for: a new Configure
	// makes a new one.
	cfg    *config
	client *gophercloud.ServiceClient
}

// neutron returns the Neutron client, connecting on first use; nil
// without one. A catalog without Neutron is remembered until the next
// Configure; a failure to connect is not.
func (d *Driver) neutron(ctx context.Context) (*gophercloud.ServiceClient, error) {
	d.mu.Lock()
	cfg := d.cfg
	d.mu.Unlock()
	if cfg == nil || (cfg.Cloud == "" && cfg.AuthType != osclient.AuthPassword) {
		return nil, nil
	}
	l := &d.neutronLink
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg == cfg {
		return l.client, nil
	}
	o := *cfg.Options
	o.URL = "" // Ironic's: Neutron's is in the catalog
	sc, err := o.Connect(ctx, osclient.Service{
		Name:          "neutron",
		New:           openstack.NewNetworkV2,
		Version:       "v2.0",
		Logger:        d.log,
		WrapTransport: d.wrapTransport,
	})
	var ke *osclient.KeystoneError
	switch {
	case errors.As(err, &ke) && ke.MissingType != "":
		requestid.Logger(ctx, d.log).Info("no network service in the Keystone catalog: exports leave the ports' networks to the migration's network_map", "auth_url", ke.AuthURL)
		l.cfg, l.client = cfg, nil
		return nil, nil
	case err != nil:
		return nil, connectError(err)
	}
	l.cfg, l.client = cfg, sc
	return sc, nil
}

// addNetworks fills each port's Network (the Neutron network's name, or
// its id when it has none) and FixedIPs from its VIF's Neutron port, when
// the driver reaches a Neutron. A VIF Neutron does not know (deleted
// behind Ironic's back) leaves its port without them.
func (d *Driver) addNetworks(ctx context.Context, ps []driver.MachinePort) error {
	var nc *gophercloud.ServiceClient
	names := map[string]string{} // network id → what a port's Network says
	for i := range ps {
		p := &ps[i]
		if p.NeutronPortID == "" {
			continue
		}
		if nc == nil {
			var err error
			if nc, err = d.neutron(ctx); err != nil || nc == nil {
				return err
			}
		}
		np, err := ports.Get(ctx, nc, p.NeutronPortID).Extract()
		if gophercloud.ResponseCodeIs(err, 404) {
			requestid.Logger(ctx, d.log).Warn("a port's VIF is not in Neutron: its network is left to the migration's network_map",
				"mac", p.MAC, "neutron_port", p.NeutronPortID)
			continue
		}
		if err != nil {
			return classify(err, "neutron", nc.Endpoint)
		}
		name, ok := names[np.NetworkID]
		if !ok {
			net, err := networks.Get(ctx, nc, np.NetworkID).Extract()
			if err != nil {
				return classify(err, "neutron", nc.Endpoint)
			}
			name = net.Name
			if name == "" {
				name = net.ID
			}
			names[np.NetworkID] = name
		}
		p.Network = name
		p.FixedIPs = nil
		for _, ip := range np.FixedIPs {
			p.FixedIPs = append(p.FixedIPs, ip.IPAddress)
		}
	}
	return nil
}
