package inventory

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// good is a machine every rule accepts, as JSON; cases change one thing.
const good = `{
  "name": "db-01", "driver": "ipmi",
  "driver_info": {"ipmi_address": "10.0.0.1", "ipmi_port": 623},
  "secrets": ["ipmi_password"], "resource_class": "baremetal",
  "properties": {"cpus": 8}, "traits": ["CUSTOM_RACK_1", "HW_CPU_X86_AVX2"],
  "deploy_interface": "direct", "image": "https://images.example.com/a.qcow2",
  "power_state": "power on",
  "ports": [
    {"mac": "52:54:00:00:00:01", "pxe_enabled": true, "physical_network": "physnet1", "network": "prov", "fixed_ips": ["10.0.0.11", "fd00::11"]},
    {"mac": "52:54:00:00:00:02"}
  ],
  "portgroups": [{"name": "bond0", "mac": "52:54:00:00:00:01", "mode": "802.3ad", "ports": ["52:54:00:00:00:01", "52:54:00:00:00:02"]}],
  "owner": "p1", "lessee": "p2"
}`

// with is good with the fields of patch set (a null deletes).
func with(t *testing.T, patch string) any {
	t.Helper()
	doc, err := decodeJSONValue([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	p, err := decodeJSONValue([]byte(patch))
	if err != nil {
		t.Fatalf("patch %s: %v", patch, err)
	}
	obj := doc.(map[string]any)
	for k, v := range p.(map[string]any) {
		if v == nil {
			delete(obj, k)
		} else {
			obj[k] = v
		}
	}
	return obj
}

// TestValidateMachine: the schema and the rules beyond it, one broken
// rule a case, each refusal naming the machine and the field in words.
func TestValidateMachine(t *testing.T) {
	for name, tc := range map[string]struct {
		patch string
		want  []string // Error() of each error; none: accepted
	}{
		"the good machine":       {`{}`, nil},
		"only a driver":          {`{"name": null, "driver_info": null, "secrets": null, "resource_class": null, "properties": null, "traits": null, "deploy_interface": null, "image": null, "power_state": null, "ports": null, "portgroups": null, "owner": null, "lessee": null}`, nil},
		"a glance image":         {`{"image": "5E3A1F2C-3d4b-4c5d-8e6f-7a8b9c0d1e2f"}`, nil},
		"a file image":           {`{"image": "file:///var/lib/images/a.img"}`, nil},
		"power off":              {`{"power_state": "power off"}`, nil},
		"upper-case MACs":        {`{"ports": [{"mac": "52:54:00:00:00:0A"}], "portgroups": [{"mac": "52:54:00:00:00:0b", "ports": ["52:54:00:00:00:0a"]}]}`, nil},
		"no driver":              {`{"driver": null}`, []string{`machine "db-01": driver: is required`}},
		"empty driver":           {`{"driver": ""}`, []string{`machine "db-01": driver: must not be empty`}},
		"an unknown field":       {`{"bmc": "x"}`, []string{`machine "db-01": bmc: unknown field; the fields of a machine are name, driver, driver_info, secrets, resource_class, properties, traits, deploy_interface, image, power_state, ports, portgroups, owner, lessee`}},
		"a name with a space":    {`{"name": "db 01"}`, []string{`machine: name: "db 01" is not a valid node name (letters, digits and - . _ ~, at most 255, not a UUID, not an Ironic API word such as detail)`}},
		"a UUID as name":         {`{"name": "5e3a1f2c-3d4b-4c5d-8e6f-7a8b9c0d1e2f"}`, []string{`machine "5e3a1f2c-3d4b-4c5d-8e6f-7a8b9c0d1e2f": name: "5e3a1f2c-3d4b-4c5d-8e6f-7a8b9c0d1e2f" is not a valid node name (letters, digits and - . _ ~, at most 255, not a UUID, not an Ironic API word such as detail)`}},
		"a UUID without hyphens": {`{"name": "5e3a1f2c3d4b4c5d8e6f7a8b9c0d1e2f"}`, []string{`name: "5e3a1f2c3d4b4c5d8e6f7a8b9c0d1e2f" is not a valid node name`}},
		"a reserved word":        {`{"name": "detail"}`, []string{`name: "detail" is not a valid node name`}},
		"a long name":            {`{"name": "` + strings.Repeat("a", 256) + `"}`, []string{`machine: name: "aaaa`}},
		"a name of a number":     {`{"name": 7}`, []string{`machine: name: must be a string, not an integer`}},
		"driver_info a string":   {`{"driver_info": "ipmi_address=x"}`, []string{`machine "db-01": driver_info: must be an object, not a string`}},
		"a password in info":     {`{"driver_info": {"ipmi_address": "x", "ipmi_password": "hunter2"}, "secrets": null}`, []string{`machine "db-01": driver_info.ipmi_password: Ironic hides this field: it is a secret, so it goes in the secrets file: list "ipmi_password" under secrets`}},
		"a secret also in info":  {`{"driver_info": {"ipmi_password": "hunter2"}}`, []string{`machine "db-01": secrets[0]: "ipmi_password" is also in driver_info: a secret goes only in the secrets file`}},
		"Ironic's mask as value": {`{"driver_info": {"ipmi_address": "x", "ipmi_user": "******"}}`, []string{`machine "db-01": driver_info.ipmi_user: is Ironic's mask, not a value: list "ipmi_user" under secrets and give it in the secrets file`}},
		"a secret twice":         {`{"secrets": ["a", "a"]}`, []string{`machine "db-01": secrets[1]: "a" is listed twice (also [0])`}},
		"a secret with =":        {`{"secrets": ["a=b"]}`, []string{`secrets[0]: "a=b" is not a driver_info field name`}},
		"a long resource class":  {`{"resource_class": "` + strings.Repeat("r", 81) + `"}`, []string{`resource_class: "rrrr`}},
		"a lower-case trait":     {`{"traits": ["custom_x"]}`, []string{`machine "db-01": traits[0]: "custom_x" is not a trait (CUSTOM_ and upper case letters, digits or _, or a standard trait such as HW_CPU_X86_AVX2)`}},
		"CUSTOM_ alone":          {`{"traits": ["CUSTOM_"]}`, []string{`traits[0]: "CUSTOM_" is not a trait`}},
		"a trait with a dash":    {`{"traits": ["CUSTOM_A-B"]}`, []string{`traits[0]: "CUSTOM_A-B" is not a trait`}},
		"51 traits":              {`{"traits": [` + traits(51) + `]}`, []string{`machine "db-01": traits: has more than 50 items`}},
		"an image by name":       {`{"image": "ubuntu"}`, []string{`machine "db-01": image: "ubuntu" is not an image (a Glance image UUID, or an http://, https:// or file:/// URL)`}},
		"an ftp image":           {`{"image": "ftp://x/a.img"}`, []string{`image: "ftp://x/a.img" is not an image`}},
		"power state on":         {`{"power_state": "on"}`, []string{`machine "db-01": power_state: "on" is not a power state (power on or power off)`}},
		"a bad MAC":              {`{"ports": [{"mac": "52:54:00:00:00:01"}, {"mac": "zz"}], "portgroups": null}`, []string{`machine "db-01": ports[1].mac: "zz" is not a MAC address`}},
		"a port without MAC":     {`{"ports": [{"network": "x"}], "portgroups": null}`, []string{`machine "db-01": ports[0].mac: is required`}},
		"a port's unknown field": {`{"ports": [{"mac": "52:54:00:00:00:01", "vif": "x"}], "portgroups": null}`, []string{`machine "db-01": ports[0].vif: unknown field; the fields of a port are mac, pxe_enabled, physical_network, network, fixed_ips`}},
		"pxe_enabled a string":   {`{"ports": [{"mac": "52:54:00:00:00:01", "pxe_enabled": "yes"}], "portgroups": null}`, []string{`ports[0].pxe_enabled: must be a boolean, not a string`}},
		"a bad IP":               {`{"ports": [{"mac": "52:54:00:00:00:01", "network": "n", "fixed_ips": ["10.0.0.300"]}], "portgroups": null}`, []string{`machine "db-01": ports[0].fixed_ips[0]: "10.0.0.300" is not an IPv4 or IPv6 address`}},
		"an IP twice":            {`{"ports": [{"mac": "52:54:00:00:00:01", "network": "n", "fixed_ips": ["10.0.0.3", "10.0.0.3"]}], "portgroups": null}`, []string{`ports[0].fixed_ips[1]: "10.0.0.3" is listed twice (also [0])`}},
		"fixed IPs, no network":  {`{"ports": [{"mac": "52:54:00:00:00:01", "fixed_ips": ["10.0.0.3"]}], "portgroups": null}`, []string{`machine "db-01": ports[0].fixed_ips: need the port's network (the Neutron network the addresses are on)`}},
		"a MAC twice":            {`{"ports": [{"mac": "52:54:00:00:00:01"}, {"mac": "52:54:00:00:00:01"}], "portgroups": null}`, []string{`machine "db-01": ports[1].mac: "52:54:00:00:00:01" is also ports[0]'s MAC`}},
		"a MAC twice, any case":  {`{"ports": [{"mac": "52:54:00:00:00:0a"}, {"mac": "52:54:00:00:00:0A"}], "portgroups": null}`, []string{`ports[1].mac: "52:54:00:00:00:0A" is also ports[0]'s MAC`}},
		"a member that is no port": {`{"portgroups": [{"mac": "52:54:00:00:00:01", "ports": ["52:54:00:00:00:09"]}]}`,
			[]string{`machine "db-01": portgroups[0].ports[0]: "52:54:00:00:00:09" is no port's MAC: a member must be one of the machine's ports`}},
		"a member in two groups": {`{"portgroups": [{"mac": "52:54:00:00:00:01", "ports": ["52:54:00:00:00:01"]}, {"mac": "52:54:00:00:00:02", "ports": ["52:54:00:00:00:01"]}]}`,
			[]string{`machine "db-01": portgroups[1].ports[0]: "52:54:00:00:00:01" is also a member of portgroups[0]: a port is in one portgroup at most`}},
		"two groups, one MAC": {`{"portgroups": [{"mac": "52:54:00:00:00:01"}, {"mac": "52:54:00:00:00:01"}]}`,
			[]string{`machine "db-01": portgroups[1].mac: "52:54:00:00:00:01" is also portgroups[0]'s MAC`}},
		"two groups, one name": {`{"portgroups": [{"name": "b", "mac": "52:54:00:00:00:01"}, {"name": "B", "mac": "52:54:00:00:00:02"}]}`,
			[]string{`portgroups[1].name: "B" is also portgroups[0]'s name`}},
		"a portgroup without MAC": {`{"portgroups": [{"name": "b"}]}`, []string{`machine "db-01": portgroups[0].mac: is required`}},
		"several at once, in order": {`{"ports": [{"mac": "x1"}, {"mac": "x2", "network": 5}], "driver": 3, "bogus": 1, "portgroups": null}`, []string{
			`machine "db-01": driver: must be a string, not an integer`,
			`machine "db-01": ports[0].mac: "x1" is not a MAC address`,
			`machine "db-01": ports[1].mac: "x2" is not a MAC address`,
			`machine "db-01": ports[1].network: must be a string, not an integer`,
			`machine "db-01": bogus: unknown field; the fields of a machine are name, driver, driver_info, secrets, resource_class, properties, traits, deploy_interface, image, power_state, ports, portgroups, owner, lessee`,
		}},
	} {
		t.Run(name, func(t *testing.T) {
			doc := with(t, tc.patch)
			_, err := ValidateMachine(doc)
			var got []string
			var errs Errors
			if err != nil && !errors.As(err, &errs) {
				t.Fatalf("ValidateMachine: %v (%T); want Errors", err, err)
			}
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			for i := range got {
				// A want without the machine's label is a prefix of the field.
				if !strings.HasPrefix(got[i], tc.want[i]) && !strings.Contains(got[i], ": "+tc.want[i]) {
					t.Errorf("error %d:\n  %s\nwant\n  %s", i, got[i], tc.want[i])
				}
			}
			if strings.Contains(strings.Join(got, "\n"), "hunter2") {
				t.Errorf("an error shows a driver_info value: %v", got)
			}
		})
	}
}

func traits(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"CUSTOM_T` + strings.Repeat("X", i) + `"`)
	}
	return b.String()
}

// TestValidateMachineDecodes: the accepted machine is driver.Machine with
// every field, numbers as written, from a document of either JSON
// decoding (json.Number or float64).
func TestValidateMachineDecodes(t *testing.T) {
	tr, fa := true, false
	want := driver.Machine{
		Name: "db-01", Driver: "ipmi",
		DriverInfo: map[string]any{"ipmi_address": "10.0.0.1", "ipmi_port": json.Number("623")},
		Secrets:    []string{"ipmi_password"}, ResourceClass: "baremetal",
		Properties: map[string]any{"cpus": json.Number("8")}, Traits: []string{"CUSTOM_RACK_1", "HW_CPU_X86_AVX2"},
		DeployInterface: "direct", Image: "https://images.example.com/a.qcow2", PowerState: "power on",
		Ports: []driver.MachinePort{
			{MAC: "52:54:00:00:00:01", PXEEnabled: &tr, PhysicalNetwork: "physnet1", Network: "prov", FixedIPs: []string{"10.0.0.11", "fd00::11"}},
			{MAC: "52:54:00:00:00:02"},
		},
		Portgroups: []driver.MachinePortgroup{{Name: "bond0", MAC: "52:54:00:00:00:01", Mode: "802.3ad", Ports: []string{"52:54:00:00:00:01", "52:54:00:00:00:02"}}},
		Owner:      "p1", Lessee: "p2",
	}
	var asFloat any
	if err := json.Unmarshal([]byte(good), &asFloat); err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]any{"json.Number": with(t, `{}`), "float64": asFloat} {
		t.Run(name, func(t *testing.T) {
			got, err := ValidateMachine(doc)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("machine (-want +got):\n%s", diff)
			}
		})
	}
	_ = fa
}

// TestGoFormReadsBack: driver.Machine's own JSON form, empty fields and
// all, is a machine ValidateMachine reads back as the same value.
func TestGoFormReadsBack(t *testing.T) {
	for name, m := range map[string]driver.Machine{
		"only a driver": {Driver: "ipmi"},
		"with a port":   {Driver: "ipmi", Ports: []driver.MachinePort{{MAC: "52:54:00:00:00:01"}}},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ValidateMachine(json.RawMessage(b))
			if err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if diff := cmp.Diff(m, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestMachineSchemaIsData: the schema is a draft-04 document that names
// every field of driver.Machine's JSON form, and nothing else.
func TestMachineSchemaIsData(t *testing.T) {
	var doc struct {
		Schema     string         `json:"$schema"`
		Properties map[string]any `json:"properties"`
		Required   []string       `json:"required"`
	}
	if err := json.Unmarshal(MachineSchema(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "http://json-schema.org/draft-04/schema#" {
		t.Errorf("$schema %q", doc.Schema)
	}
	b, err := json.Marshal(driver.Machine{
		Name: "n", Driver: "d", DriverInfo: map[string]any{"a": "b"}, Secrets: []string{"s"}, ResourceClass: "r",
		Properties: map[string]any{"a": 1}, Traits: []string{"T"}, DeployInterface: "x", Image: "i", PowerState: "p",
		Ports: []driver.MachinePort{{MAC: "m"}}, Portgroups: []driver.MachinePortgroup{{MAC: "m"}}, Owner: "o", Lessee: "l",
	})
	if err != nil {
		t.Fatal(err)
	}
	var every map[string]any
	if err := json.Unmarshal(b, &every); err != nil {
		t.Fatal(err)
	}
	var fromType, fromSchema []string
	for k := range every {
		fromType = append(fromType, k)
	}
	for k := range doc.Properties {
		fromSchema = append(fromSchema, k)
	}
	if diff := cmp.Diff(fromType, fromSchema, sortStrings); diff != "" {
		t.Errorf("schema's fields vs driver.Machine's JSON (-type +schema):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"driver"}, doc.Required); diff != "" {
		t.Errorf("required (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Fields(), []string{"name", "driver", "driver_info", "secrets", "resource_class", "properties", "traits", "deploy_interface", "image", "power_state", "ports", "portgroups", "owner", "lessee"}); diff != "" {
		t.Errorf("Fields (-got +want):\n%s", diff)
	}
}

var sortStrings = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})
