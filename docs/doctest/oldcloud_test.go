package doctest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/testenv/ironic"
	"github.com/mogan-manage/mogan-manage/testenv/keystone"
	"github.com/mogan-manage/mogan-manage/testenv/neutron"
)

// oldCloud is the other cloud of the guide's "Move machines from another
// cloud": an OpenStack of its own — Keystone, Ironic, Neutron — whose
// Ironic runs the machines the guide moves. Its Ironic cleans nodes
// automatically, as Ironic does by default, so that a stray provide would
// show as cleaning rather than pass unseen.
type oldCloud struct {
	Keystone *keystone.Keystone
	Ironic   *ironic.Server
	Neutron  *neutron.Neutron
}

// oldMachine is one running machine of the old cloud.
type oldMachine struct {
	name, mac, ip, bmc string
	// instance: an instance of the old cloud holds the node.
	instance bool
}

// The old cloud's machines, as the guide names them: two that can move
// and one that an instance there still holds.
var oldMachines = []oldMachine{
	{name: "app-01", mac: "52:54:00:6d:4a:01", ip: "10.20.0.31", bmc: "192.0.2.31"},
	{name: "app-02", mac: "52:54:00:6d:4a:02", ip: "10.20.0.32", bmc: "192.0.2.32"},
	{name: "app-03", mac: "52:54:00:6d:4a:03", ip: "10.20.0.33", bmc: "192.0.2.33", instance: true},
}

const (
	// oldBMCPassword is the machines' ipmi_password in the old Ironic,
	// which it masks: the guide's secrets file gives the same value.
	oldBMCPassword = "old-rack-password"
	// oldImage is the image the machines were deployed from in the old
	// cloud: unknown to the new cloud's Glance, so the guide maps it.
	oldImage = "7c1e9a52-3f0b-4d8e-9a61-0b6f2d4c8e13"
	// oldNetwork is the old cloud's network of the machines' NICs, named as
	// the new cloud's.
	oldNetwork = "provisioning"
)

// startOldCloud starts the old cloud's services at once, puts Ironic and
// Neutron in its Keystone's catalog, and enrolls the machines there as
// running, each NIC's Neutron port bound to its node.
func startOldCloud(ctx context.Context, dir string) (*oldCloud, error) {
	o := &oldCloud{}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		o.Keystone, err = keystone.Start(gctx, filepath.Join(dir, "keystone"), keystone.WithoutUsers())
		return err
	})
	g.Go(func() (err error) {
		o.Ironic, err = ironic.Start(gctx, ironic.Options{Dir: filepath.Join(dir, "ironic"), AutomatedClean: true, DieWithParent: true})
		return err
	})
	g.Go(func() (err error) {
		o.Neutron, err = neutron.Start(gctx, filepath.Join(dir, "neutron"))
		return err
	})
	err := g.Wait()
	if err == nil {
		err = register(ctx, o.Keystone, map[string]string{"baremetal": o.Ironic.URL, "network": o.Neutron.URL})
	}
	if err == nil {
		err = o.enroll(ctx)
	}
	if err != nil {
		o.Stop()
		return nil, fmt.Errorf("the old cloud: %w", err)
	}
	return o, nil
}

// Stop ends the old cloud's services.
func (o *oldCloud) Stop() {
	if o.Keystone != nil {
		o.Keystone.Stop()
	}
	if o.Ironic != nil {
		_ = o.Ironic.Stop()
	}
	if o.Neutron != nil {
		o.Neutron.Stop()
	}
}

// enroll makes the network and the machines: each an active node with
// masked BMC credentials, the old image, and one port whose VIF is a
// Neutron port with the machine's MAC and address, bound to the node.
func (o *oldCloud) enroll(ctx context.Context) error {
	network, err := o.Neutron.CreateNetwork(ctx, oldNetwork)
	if err != nil {
		return err
	}
	if _, err := o.Neutron.CreateSubnet(ctx, network, subnetCIDR); err != nil {
		return err
	}
	f := o.Ironic.Fixture()
	g, gctx := errgroup.WithContext(ctx)
	for _, m := range oldMachines {
		g.Go(func() error { return o.enrollMachine(gctx, f, network, m) })
	}
	return g.Wait()
}

// subnetCIDR is both clouds' provisioning subnet (testenv/cloud's).
const subnetCIDR = "10.20.0.0/16"

func (o *oldCloud) enrollMachine(ctx context.Context, f *ironic.Fixture, network string, m oldMachine) error {
	id := uuid.NewString()
	var vif struct{ Port neutron.Port }
	body := map[string]any{"port": map[string]any{
		"network_id": network, "mac_address": m.mac, "name": m.name + "-eth0",
		"fixed_ips": []map[string]string{{"ip_address": m.ip}},
	}}
	if err := o.Neutron.Request(ctx, http.MethodPost, "/ports", body, &vif); err != nil {
		return err
	}
	if _, err := o.Neutron.BindPort(ctx, vif.Port.ID, id, "baremetal"); err != nil {
		return err
	}
	node := map[string]any{
		"uuid": id, "name": m.name, "driver": "fake-hardware", "resource_class": "baremetal",
		"driver_info":   map[string]string{"ipmi_address": m.bmc, "ipmi_username": "admin", "ipmi_password": oldBMCPassword},
		"properties":    map[string]any{"cpu_arch": "x86_64", "cpus": 16, "memory_mb": 65536, "local_gb": 400},
		"instance_info": map[string]string{"image_source": oldImage},
	}
	if err := f.Request(ctx, http.MethodPost, "/v1/nodes", node, nil); err != nil {
		return err
	}
	port := map[string]any{
		"node_uuid": id, "address": m.mac, "pxe_enabled": true, "physical_network": neutron.PhysicalNetwork,
		"extra": map[string]string{"vif_port_id": vif.Port.ID},
	}
	if err := f.Request(ctx, http.MethodPost, "/v1/ports", port, nil); err != nil {
		return err
	}
	// No power action: fake-hardware reads a new node's power state as
	// none, so a target would read none where an export said "power on".
	for _, step := range [][2]string{{"manage", "manageable"}, {"adopt", "active"}} {
		if err := provision(ctx, f, id, step[0], step[1]); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
	}
	if m.instance {
		patch := []map[string]string{{"op": "add", "path": "/instance_uuid", "value": uuid.NewString()}}
		return f.Request(ctx, http.MethodPatch, "/v1/nodes/"+id, patch, nil)
	}
	return nil
}

// provision requests verb and waits until the node is in state.
func provision(ctx context.Context, f *ironic.Fixture, id, verb, state string) error {
	if err := f.Request(ctx, http.MethodPut, "/v1/nodes/"+id+"/states/provision", map[string]string{"target": verb}, nil); err != nil {
		return err
	}
	for {
		var n struct {
			ProvisionState string `json:"provision_state"`
			LastError      string `json:"last_error"`
		}
		if err := f.Request(ctx, http.MethodGet, "/v1/nodes/"+id+"?fields=provision_state,last_error", nil, &n); err != nil {
			return err
		}
		switch {
		case n.ProvisionState == state:
			return nil
		case strings.HasSuffix(n.ProvisionState, "failed"):
			return fmt.Errorf("%s: %s: %s", verb, n.ProvisionState, n.LastError)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// writeOpenrc writes the old cloud's admin credentials as an
// admin-openrc, the file an operator downloads from a cloud's dashboard.
func (o *oldCloud) writeOpenrc(path string) error {
	var b strings.Builder
	b.WriteString("# The old cloud's admin credentials (docs/operator.md, \"Move machines from another cloud\").\n")
	for _, kv := range [][2]string{
		{"OS_AUTH_URL", o.Keystone.URL},
		{"OS_IDENTITY_API_VERSION", "3"},
		{"OS_USERNAME", o.Keystone.Admin.Name},
		{"OS_PASSWORD", o.Keystone.Admin.Password},
		{"OS_PROJECT_NAME", o.Keystone.Admin.Project},
		{"OS_USER_DOMAIN_NAME", keystone.DomainName},
		{"OS_PROJECT_DOMAIN_NAME", keystone.DomainName},
		{"OS_REGION_NAME", "RegionOne"},
		{"OS_INTERFACE", "public"},
	} {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], kv[1])
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
