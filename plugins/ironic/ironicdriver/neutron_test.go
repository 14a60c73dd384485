package ironicdriver

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/testenv/keystone"
	"github.com/mogan-manage/mogan-manage/testenv/neutron"
)

// TestExportNetworksFromNeutron: with credentials that reach a Neutron
// through the Keystone catalog — password with [ironic] url, or a
// clouds.yaml cloud — each port's network (its name, or its id when it
// has none) and fixed IPs are read from its VIF's Neutron port, a bond's
// on its member with the bond's MAC; a VIF Neutron does not know leaves
// its port without. Without Keystone, or in a region whose catalog has no
// network service, the ports keep their VIFs only. Real Keystone, Neutron
// and Ironic.
func TestExportNetworksFromNeutron(t *testing.T) {
	ironicURL := ironicEnv(t).ironic.URL
	var ks *keystone.Keystone
	var nt *neutron.Neutron
	g, gctx := errgroup.WithContext(t.Context())
	g.Go(func() (err error) { ks, err = keystone.Start(gctx, t.TempDir()); return err })
	g.Go(func() (err error) { nt, err = neutron.Start(gctx, t.TempDir()); return err })
	err := g.Wait()
	if ks != nil {
		t.Cleanup(ks.Stop)
	}
	if nt != nil {
		t.Cleanup(nt.Stop)
	}
	if err != nil {
		t.Fatal(err)
	}
	registerNetworkService(t, ks, nt.URL, "RegionOne")

	named, err := nt.CreateNetwork(t.Context(), "provisioning")
	if err != nil {
		t.Fatal(err)
	}
	unnamed, err := nt.CreateTenantNetwork(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	for net, cidr := range map[string]string{named: "10.30.0.0/24", unnamed: "10.31.0.0/24"} {
		if _, err := nt.CreateSubnet(t.Context(), net, cidr); err != nil {
			t.Fatal(err)
		}
	}
	s := richSource(sourceActive)
	bond, err := nt.CreatePort(t.Context(), named, s.Portgroups[0].MAC)
	if err != nil {
		t.Fatal(err)
	}
	alone, err := nt.CreatePort(t.Context(), unnamed, s.Ports[2].MAC)
	if err != nil {
		t.Fatal(err)
	}
	s.Portgroups[0].InternalVIF = bond.ID // the bond's ExtraVIF is shadowed: a uuid Neutron does not know
	s.Ports[2].ExtraVIF = alone.ID
	s.Ports[3].InternalVIF = uuid.NewString() // gone from Neutron
	s.make(t)

	withoutNetworks := wantExport(t, s).Machine.Ports
	withNetworks := wantExport(t, s).Machine.Ports
	withNetworks[0].Network, withNetworks[0].FixedIPs = "provisioning", []string{bond.FixedIPs[0].IPAddress}
	withNetworks[2].Network, withNetworks[2].FixedIPs = unnamed, []string{alone.FixedIPs[0].IPAddress}

	clouds := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(clouds, fmt.Appendf(nil, `clouds:
  lab:
    auth_type: password
    auth:
      auth_url: %s
      username: %s
      password: %s
      project_name: %s
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
`, ks.URL, ks.Service.Name, ks.Service.Password, ks.Service.Project), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", clouds)
	password := func(region string) map[string]string {
		return map[string]string{
			"url": ironicURL, "auth_type": "password", "auth_url": ks.URL, "username": ks.Service.Name,
			"password": ks.Service.Password, "project_name": ks.Service.Project, "user_domain_name": "Default",
			"project_domain_name": "Default", "region_name": region,
		}
	}
	tests := map[string]struct {
		options map[string]string
		want    []driver.MachinePort
	}{
		"password, Neutron in the catalog": {options: password("RegionOne"), want: withNetworks},
		"clouds.yaml, Ironic from url":     {options: map[string]string{"cloud": "lab", "url": ironicURL}, want: withNetworks},
		"no network service in the region": {options: password("RegionTwo"), want: withoutNetworks},
		"no Keystone":                      {options: map[string]string{"url": ironicURL}, want: withoutNetworks},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := newDriver(nil)
			if err := d.Configure(t.Context(), tc.options); err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second export reuses the link
				got, err := d.ExportNode(t.Context(), s.UUID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, got.Machine.Ports, equateEmpty); diff != "" {
					t.Errorf("ports (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// registerNetworkService puts Neutron in Keystone's catalog of region, as
// a deployment registers it.
func registerNetworkService(t *testing.T, ks *keystone.Keystone, url, region string) {
	t.Helper()
	ctx := t.Context()
	admin, err := ks.AdminToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var svc struct {
		Service struct {
			ID string `json:"id"`
		} `json:"service"`
	}
	if err := ks.Request(ctx, admin, http.MethodPost, "/services",
		map[string]any{"service": map[string]any{"type": "network", "name": "neutron", "enabled": true}}, &svc); err != nil {
		t.Fatal(err)
	}
	if err := ks.Request(ctx, admin, http.MethodPost, "/endpoints", map[string]any{"endpoint": map[string]any{
		"service_id": svc.Service.ID, "interface": "public", "url": url, "region_id": region,
	}}, nil); err != nil {
		t.Fatal(err)
	}
}
