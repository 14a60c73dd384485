package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/mogan-manage/mogan-manage/testenv/ironic"
	"github.com/mogan-manage/mogan-manage/testenv/keystone"
)

// TestIronicDriverAuthenticatesWithKeystone connects the Ironic driver
// through a real Keystone, as in a cloud: with password credentials and an
// explicit url, and with a clouds.yaml entry that finds Ironic in the
// Keystone catalog.
func TestIronicDriverAuthenticatesWithKeystone(t *testing.T) {
	ctx := t.Context()
	ks, err := keystone.Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ks.Stop)
	ironicSrv, err := ironic.Start(ctx, ironic.Options{Dir: t.TempDir(), DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ironicSrv.Stop() })
	nodes, err := ironicSrv.Fixture().Enroll(ctx, ironic.Mix{Adoptable: 2, Maintenance: 1})
	if err != nil {
		t.Fatal(err)
	}

	// Put Ironic in the catalog, as a deployment registers it.
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
		map[string]any{"service": map[string]any{"type": "baremetal", "name": "ironic", "enabled": true}}, &svc); err != nil {
		t.Fatal(err)
	}
	for _, iface := range []string{"public", "internal"} {
		if err := ks.Request(ctx, admin, http.MethodPost, "/endpoints", map[string]any{"endpoint": map[string]any{
			"service_id": svc.Service.ID, "interface": iface, "url": ironicSrv.URL, "region_id": "RegionOne",
		}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	cloudsFile := filepath.Join(t.TempDir(), "clouds.yaml")
	clouds := fmt.Sprintf(`clouds:
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
    interface: public
`, ks.URL, ks.Service.Name, ks.Service.Password, ks.Service.Project)
	if err := os.WriteFile(cloudsFile, []byte(clouds), 0o600); err != nil {
		t.Fatal(err)
	}

	password := func(pw string) string {
		return fmt.Sprintf("url = %s\nauth_type = password\nauth_url = %s\nusername = %s\npassword = %s\n"+
			"project_name = %s\nuser_domain_name = Default\nproject_domain_name = Default\n",
			ironicSrv.URL, ks.URL, ks.Service.Name, pw, ks.Service.Project)
	}
	tests := map[string]struct {
		section string
		want    int
	}{
		"password and url":            {password(ks.Service.Password), http.StatusOK},
		"clouds.yaml and the catalog": {"cloud = lab\n", http.StatusOK},
		// Keystone refuses: the credentials are the driver's backend failing.
		"wrong password": {password("not-the-password"), http.StatusServiceUnavailable},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := startHostWithEnv(t, hostConfig(t, "", "[driver]\nname = ironic\n[ironic]\n"+tc.section),
				[]string{"OS_CLIENT_CONFIG_FILE=" + cloudsFile})
			code, body := status(t, h.URL+"/v1/manageable_servers")
			if code != tc.want {
				t.Fatalf("list: %d %s; want %d", code, body, tc.want)
			}
			if code != http.StatusOK {
				return
			}
			var list struct {
				Servers []struct {
					UUID string `json:"uuid"`
				} `json:"manageable_servers"`
			}
			if err := json.Unmarshal([]byte(body), &list); err != nil {
				t.Fatal(err)
			}
			want := 0
			for _, n := range nodes {
				if n.Kind == ironic.KindAdoptable {
					want++
				}
			}
			if len(list.Servers) != want {
				t.Errorf("listed %d nodes; want the %d adoptable ones: %s", len(list.Servers), want, body)
			}
		})
	}
}
