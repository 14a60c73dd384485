package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

// inventoryFile writes nodes as the driver's file and returns its path.
func inventoryFile(t *testing.T, nodes []driver.Node) string {
	t.Helper()
	b, err := json.Marshal(nodes)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "inventory.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var fleet = []driver.Node{
	{UUID: "0b8f4a0e-57a4-4b43-9d7e-1f9a3e6f0c01", Name: "web-1", ResourceClass: "baremetal", PowerState: "power on",
		ProvisionState: "active", Manageable: true, ImageSource: "http://images.example/web.qcow2",
		Ports: []driver.Port{{UUID: "5f1d2c3b-0000-4000-8000-000000000001", Address: "52:54:00:00:00:01"}}},
	{UUID: "0b8f4a0e-57a4-4b43-9d7e-1f9a3e6f0c02", Name: "retired", ResourceClass: "baremetal",
		Manageable: false, Reason: "scheduled for decommissioning"},
	{UUID: "0b8f4a0e-57a4-4b43-9d7e-1f9a3e6f0c03", Name: "db-1", ResourceClass: "baremetal-large",
		PowerState: "power off", ProvisionState: "active", Manageable: true},
	{UUID: "0b8f4a0e-57a4-4b43-9d7e-1f9a3e6f0c04", Name: "web-2", ResourceClass: "baremetal",
		PowerState: "power on", ProvisionState: "active", Manageable: true},
}

// The example is proven the way a plugin author proves theirs: built, then
// checked by the conformance kit through the host's own loader.
func TestConformance(t *testing.T) {
	drivertest.Run(t, drivertest.Config{
		Path:    drivertest.Build(t, ".", "inventory"),
		Options: map[string]string{"file": inventoryFile(t, fleet)},
	})
}

// The filters the kit cannot see with its own nodes: resource class,
// unmanageable nodes listed only when asked for, with their reason.
func TestListingFilters(t *testing.T) {
	d := &inventory{}
	if err := d.Configure(t.Context(), map[string]string{"file": inventoryFile(t, fleet)}); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		opts driver.ListOptions
		want []string
	}{
		"manageable only":         {driver.ListOptions{}, []string{"web-1", "db-1", "web-2"}},
		"all":                     {driver.ListOptions{IncludeUnmanageable: true}, []string{"web-1", "retired", "db-1", "web-2"}},
		"resource class":          {driver.ListOptions{ResourceClass: "baremetal"}, []string{"web-1", "web-2"}},
		"marker and limit":        {driver.ListOptions{Marker: fleet[0].UUID, Limit: 1}, []string{"db-1"}},
		"marker past unmanagable": {driver.ListOptions{Marker: fleet[1].UUID}, []string{"db-1", "web-2"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			err := d.ListManageableNodes(t.Context(), tc.opts, func(n driver.Node) error {
				got = append(got, n.Name)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("listing (-want +got):\n%s", diff)
			}
		})
	}
	n, err := d.GetManageableNode(t.Context(), fleet[1].UUID)
	if err != nil || n.Manageable || n.Reason != "scheduled for decommissioning" {
		t.Errorf("GetManageableNode(retired) = manageable %v, reason %q, %v; want false with the file's reason", n.Manageable, n.Reason, err)
	}
}

// A file that cannot be read is an InvalidOption naming "file", across the
// plugin boundary: the host refuses to start and names [inventory] file.
// The option is described, required, for the host's checks.
func TestBadFileNamesTheOption(t *testing.T) {
	p, err := driverplugin.Launch(driverplugin.LaunchConfig{Path: drivertest.Build(t, ".", "inventory")})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	notJSON := filepath.Join(t.TempDir(), "inventory.json")
	if err := os.WriteFile(notJSON, []byte("web-1 52:54:00:00:00:01\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The option the host checks a section against, and prints in the
	// sample configuration.
	describer, ok := p.Driver().(driver.ConfigDescriber)
	if !ok {
		t.Fatal("the host's view of the plugin is no driver.ConfigDescriber")
	}
	schema, err := describer.ConfigSchema(t.Context())
	if err != nil || len(schema) != 1 || schema[0].Name != "file" || !schema[0].Required {
		t.Errorf("ConfigSchema = %+v, %v; want the one required option file", schema, err)
	}
	for name, file := range map[string]string{"missing": "/nonexistent/inventory.json", "not JSON": notJSON} {
		err := p.Driver().Configure(t.Context(), map[string]string{"file": file})
		if !errors.Is(err, driver.ErrInvalidArgument) || driver.OptionOf(err) != "file" {
			t.Errorf("%s: Configure = %v (option %q), want an InvalidOption naming file", name, err, driver.OptionOf(err))
		}
	}
}
