package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// full is a machine with every field, and values YAML would read as
// something else if written bare.
func full() driver.Machine {
	tr, fa := true, false
	return driver.Machine{
		Name: "web-01", Driver: "redfish",
		DriverInfo: map[string]any{"redfish_address": "https://10.0.0.1", "redfish_verify_ca": "False", "port": json.Number("623"),
			"yes": "on", "when": "2001-12-14", "octal": "0123", "nested": map[string]any{"a": []any{"x", json.Number("1.5"), true, nil}}},
		Secrets:       []string{"redfish_password"},
		ResourceClass: "gold", Properties: map[string]any{"cpus": json.Number("32"), "cpu_arch": "x86_64"},
		Traits: []string{"CUSTOM_A"}, DeployInterface: "direct", Image: "file:///images/a.img", PowerState: "power off",
		Ports: []driver.MachinePort{
			{MAC: "52:54:00:00:00:01", PXEEnabled: &tr, PhysicalNetwork: "physnet1", Network: "prov", FixedIPs: []string{"10.0.0.11", "fd00::1"}},
			{MAC: "52:54:00:00:00:02", PXEEnabled: &fa, Network: "other"},
		},
		Portgroups: []driver.MachinePortgroup{{Name: "bond0", MAC: "52:54:00:00:00:01", Mode: "802.3ad", Ports: []string{"52:54:00:00:00:01", "52:54:00:00:00:02"}}},
		Owner:      "p1", Lessee: "p2",
	}
}

// simple is a machine the CSV form can say, with values that need its
// quoting.
func simple() driver.Machine {
	return driver.Machine{
		Name: "db-01", Driver: "ipmi",
		DriverInfo: map[string]any{"ipmi_address": "10.0.0.2", "a;b": "c;d=e", "q": `say "hi", twice`, "empty": ""},
		Secrets:    []string{"ipmi_password"}, ResourceClass: "gold", Image: "https://x/a.img?b=1;c", PowerState: "power on",
		Ports: []driver.MachinePort{
			{MAC: "52:54:00:00:00:11", Network: "prov net"},
			{MAC: "52:54:00:00:00:12", Network: "prov net", FixedIPs: []string{"10.0.0.12"}},
		},
		Traits: []string{"CUSTOM_A", "HW_CPU_X86_AVX2"},
	}
}

// TestWriteRoundTrip: what Write writes, Parse reads back as the same
// machines, in every format that can say them.
func TestWriteRoundTrip(t *testing.T) {
	for name, tc := range map[string]struct {
		f        Format
		machines []driver.Machine
	}{
		"yaml, every field": {YAML, []driver.Machine{full(), simple()}},
		"json, every field": {JSON, []driver.Machine{full(), simple()}},
		"csv":               {CSV, []driver.Machine{simple(), {Name: "b", Driver: "fake-hardware"}}},
		"yaml, none":        {YAML, []driver.Machine{}},
		"json, no name":     {JSON, []driver.Machine{{Driver: "ipmi"}}},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tc.f, tc.machines); err != nil {
				t.Fatal(err)
			}
			got, err := Parse("exported", buf.Bytes())
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, buf.String())
			}
			if Detect("exported", buf.Bytes()) != tc.f {
				t.Errorf("written as %s, detected as %s", tc.f, Detect("exported", buf.Bytes()))
			}
			if diff := cmp.Diff(tc.machines, got); diff != "" {
				t.Errorf("machines (-written +read):\n%s\n%s", diff, buf.String())
			}
		})
	}
}

// TestWriteOrder: the fields come in the schema's order, empty ones left
// out, so an exported file reads like the sample.
func TestWriteOrder(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, YAML, []driver.Machine{{Name: "a", Driver: "ipmi", DriverInfo: map[string]any{"z": "1", "b": "2"}, PowerState: "power on",
		Ports: []driver.MachinePort{{MAC: "52:54:00:00:00:01", Network: "n"}}}}); err != nil {
		t.Fatal(err)
	}
	want := `machines:
- name: a
  driver: ipmi
  driver_info:
    b: "2"
    z: "1"
  power_state: power on
  ports:
  - mac: "52:54:00:00:00:01"
    network: "n"
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("yaml (-want +got):\n%s", diff)
	}
}

// TestCSVCannotSay: CSV refuses, naming the machine and the fields, what
// its columns cannot say; it never drops a field.
func TestCSVCannotSay(t *testing.T) {
	err := Write(&bytes.Buffer{}, CSV, []driver.Machine{simple(), full()})
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("Write: %v; want one error", err)
	}
	want := `machine "web-01": CSV cannot say properties, deploy_interface, portgroups, owner, lessee, ` +
		`driver_info.nested (not a string), driver_info.port (not a string), ports[0].pxe_enabled, ports[0].physical_network, ` +
		`ports[0].fixed_ips (one address a port), ports[1].pxe_enabled, ports[1].network (one network for every port): use the YAML or JSON form`
	if diff := cmp.Diff(want, errs[0].Error()); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	for name, m := range map[string]driver.Machine{
		"spaces at an end": {Name: "a", Driver: "d", DriverInfo: map[string]any{"k": " v"}},
		"a key with =":     {Name: "a", Driver: "d", DriverInfo: map[string]any{"k=x": "v"}},
	} {
		if got := CSVCannotSay(m); len(got) != 1 {
			t.Errorf("%s: CSVCannotSay = %q; want one field", name, got)
		}
	}
}

// TestListCells: a ;-list cell reads back as written, quoting included.
func TestListCells(t *testing.T) {
	for name, items := range map[string][]string{
		"plain":        {"a", "b"},
		"a ;":          {"a;b", "c"},
		"quotes":       {`say "hi"`, "x"},
		"a line break": {"a\nb"},
		"empty inside": {"", "10.0.0.2"},
	} {
		t.Run(name, func(t *testing.T) {
			cell, err := joinList(items)
			if err != nil {
				t.Fatal(err)
			}
			got, err := splitList(cell)
			if err != nil {
				t.Fatalf("splitList(%q): %v", cell, err)
			}
			if diff := cmp.Diff(items, got); diff != "" {
				t.Errorf("cell %q (-want +got):\n%s", cell, diff)
			}
		})
	}
}

// TestSamples: etc's samples are valid; the CSV sample is the YAML
// sample's machines that CSV can say, and the others are those it cannot;
// the secrets sample gives every secret the inventory names.
func TestSamples(t *testing.T) {
	fromYAML, err := ReadFile("../../etc/inventory.sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fromCSV, err := ReadFile("../../etc/inventory.sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(fromYAML) != 2 || len(fromYAML[1].Portgroups) == 0 {
		t.Errorf("the YAML sample has %d machines; want two, the second with a bond", len(fromYAML))
	}
	var sayable []driver.Machine
	for _, m := range fromYAML {
		if len(CSVCannotSay(m)) == 0 {
			sayable = append(sayable, m)
		}
	}
	if diff := cmp.Diff(sayable, fromCSV); diff != "" {
		t.Errorf("CSV sample vs the YAML sample's machines CSV can say (-yaml +csv):\n%s", diff)
	}
	var buf bytes.Buffer
	if err := Write(&buf, CSV, sayable); err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile("../../etc/inventory.sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(sample), buf.String()) {
		t.Errorf("the CSV sample's rows are not what export writes:\n%s", buf.String())
	}
	data, err := os.ReadFile("../../etc/secrets.sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := ParseSecrets("secrets.sample.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range fromYAML {
		names = append(names, m.Name)
		if _, err := secrets.For(m.Name, m.Secrets); err != nil {
			t.Error(err)
		}
	}
	if err := secrets.CheckNames(names, "in the inventory"); err != nil {
		t.Error(err)
	}
}
