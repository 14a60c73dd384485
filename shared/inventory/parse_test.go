package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// threeForms is one inventory in YAML, JSON and CSV.
var threeForms = map[string]string{
	"inv.yaml": `machines:
  - name: a-1
    driver: ipmi
    driver_info: {ipmi_address: 10.0.0.1, ipmi_port: "623", "k;x": "v=w;z"}
    secrets: [ipmi_password]
    resource_class: gold
    image: https://x/a.img
    power_state: power off
    ports:
      - {mac: "52:54:00:00:00:01", network: prov, fixed_ips: [10.0.0.11]}
      - {mac: "52:54:00:00:00:02", network: prov}
      - {mac: "52:54:00:00:00:03", network: prov, fixed_ips: ["10.0.0.13"]}
    traits: [CUSTOM_A, CUSTOM_B]
  - name: a-2
    driver: fake-hardware
`,
	"inv.json": `{"machines": [
  {"name": "a-1", "driver": "ipmi", "driver_info": {"ipmi_address": "10.0.0.1", "ipmi_port": "623", "k;x": "v=w;z"},
   "secrets": ["ipmi_password"], "resource_class": "gold", "image": "https://x/a.img", "power_state": "power off",
   "ports": [{"mac": "52:54:00:00:00:01", "network": "prov", "fixed_ips": ["10.0.0.11"]},
             {"mac": "52:54:00:00:00:02", "network": "prov"},
             {"mac": "52:54:00:00:00:03", "network": "prov", "fixed_ips": ["10.0.0.13"]}],
   "traits": ["CUSTOM_A", "CUSTOM_B"]},
  {"name": "a-2", "driver": "fake-hardware", "driver_info": {}, "ports": []}
]}
`,
	// Columns in another order, a comment, a blank row, quoted items.
	"inv.csv": "# two machines\r\n" +
		"traits, name, driver, driver_info, secrets, resource_class, image, power_state, macs, network, fixed_ips\r\n" +
		`CUSTOM_A;CUSTOM_B,a-1,ipmi,"ipmi_address=10.0.0.1; ipmi_port=623;""k;x=v=w;z""",ipmi_password,gold,https://x/a.img,power off,52:54:00:00:00:01;52:54:00:00:00:02;52:54:00:00:00:03,prov,10.0.0.11;;10.0.0.13` + "\r\n" +
		",,,,,,,,,,\r\n" +
		",a-2,fake-hardware,,,,,,,,\r\n",
}

var wantThree = []driver.Machine{
	{
		Name: "a-1", Driver: "ipmi",
		DriverInfo: map[string]any{"ipmi_address": "10.0.0.1", "ipmi_port": "623", "k;x": "v=w;z"},
		Secrets:    []string{"ipmi_password"}, ResourceClass: "gold", Image: "https://x/a.img", PowerState: "power off",
		Ports: []driver.MachinePort{
			{MAC: "52:54:00:00:00:01", Network: "prov", FixedIPs: []string{"10.0.0.11"}},
			{MAC: "52:54:00:00:00:02", Network: "prov"},
			{MAC: "52:54:00:00:00:03", Network: "prov", FixedIPs: []string{"10.0.0.13"}},
		},
		Traits: []string{"CUSTOM_A", "CUSTOM_B"},
	},
	{Name: "a-2", Driver: "fake-hardware"},
}

// TestParseThreeForms: YAML, JSON and CSV of one inventory are the same
// machines, whatever the file's name says.
func TestParseThreeForms(t *testing.T) {
	for file, data := range threeForms {
		for _, name := range []string{file, "inventory", "inventory.txt"} {
			t.Run(file+" as "+name, func(t *testing.T) {
				got, err := Parse(name, []byte(data))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(wantThree, got); diff != "" {
					t.Errorf("machines (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestDetect: the content decides where it can, else the extension.
func TestDetect(t *testing.T) {
	for name, tc := range map[string]struct {
		file, data string
		want       Format
	}{
		"json by content":          {"inv", `  {"machines": []}`, JSON},
		"json by extension":        {"inv.JSON", `machines: []`, JSON},
		"yaml by content":          {"inv", "machines: []\n", YAML},
		"yaml flow in a .yaml":     {"inv.yml", `{machines: []}`, YAML},
		"csv by its header":        {"inv.yaml", "# c\n\nname,driver\n", CSV},
		"csv header, quoted":       {"inv", "\"name\",\"driver\"\n", CSV},
		"csv by extension":         {"inv.csv", "nom,pilote\n", CSV},
		"a YAML line with a comma": {"inv", "machines: [{name: a, driver: b}]\n", YAML},
		"bom then csv":             {"inv", "\ufeffname,driver\n", CSV},
	} {
		t.Run(name, func(t *testing.T) {
			if got := Detect(tc.file, []byte(tc.data)); got != tc.want {
				t.Errorf("Detect = %s; want %s", got, tc.want)
			}
		})
	}
}

// TestParseErrors: every refusal names the file, the line where the
// format gives one, the machine and the field; every machine's errors
// are there, not only the first.
func TestParseErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		file, data string
		want       []string
	}{
		"json: a bad MAC, by line": {"i.json", "{\"machines\": [\n  {\"name\": \"a\", \"driver\": \"x\"},\n  {\"name\": \"db-01\", \"driver\": \"x\",\n   \"ports\": [{\"mac\": \"zz\"}]}\n]}",
			[]string{`i.json:3: machine "db-01": ports[0].mac: "zz" is not a MAC address`}},
		"json: errors of two machines": {"i.json", `{"machines": [{"driver": 1}, {"name": "b"}]}`,
			[]string{`i.json:1: machines[0]: driver: must be a string, not an integer`, `i.json:1: machine "b": driver: is required`}},
		"yaml: a machine by name": {"i.yaml", "machines:\n  - name: db-01\n    driver: ipmi\n    power_state: on\n",
			[]string{`i.yaml: machine "db-01": power_state: must be a string, not a boolean`}},
		"csv: the row's line": {"i.csv", "name,driver,macs\na,ipmi,52:54:00:00:00:01\n\n# c\nb,ipmi,zz\n",
			[]string{`i.csv:5: machine "b": ports[0].mac: "zz" is not a MAC address`}},
		"duplicate names": {"i.json", "{\"machines\": [\n{\"name\": \"a\", \"driver\": \"x\"},\n{\"name\": \"a\", \"driver\": \"x\"}]}",
			[]string{`i.json:3: machine "a": name: "a" is also machines[0]'s name (line 2)`}},
		"names differing in case": {"i.yaml", "machines: [{name: a, driver: x}, {name: A, driver: x}]",
			[]string{`i.yaml: machine "A": name: "A" is also machines[0]'s name (it differs only in case, which some Ironic databases ignore)`}},
		"not an object":      {"i.yaml", "- a\n", []string{`i.yaml: must be {"machines": [ … ]}, not an array`}},
		"no machines":        {"i.yaml", "nodes: []\n", []string{`i.yaml: nodes: unknown key: an inventory is {"machines": [ … ]}`}},
		"machines an object": {"i.json", `{"machines": {}}`, []string{`i.json: machines: must be an array, not an object`}},
		"empty yaml":         {"i.yaml", "", []string{`i.yaml: is empty`}},
		"yaml syntax":        {"i.yaml", "machines:\n  - name: a\n   driver: b\n", []string{`i.yaml:2: is not valid YAML: did not find expected '-' indicator`}},
		"json syntax":        {"i.json", "{\"machines\": [\n{\"name\": \"a\",}\n]}", []string{`i.json:2: is not valid JSON: invalid character '}'`}},
		"json cut short":     {"i.json", `{"machines": [`, []string{`i.json:1: is not valid JSON: it ends too early`}},
		"json trailing data": {"i.json", "{\"machines\": []}\n{}", []string{`i.json:2: has more after the document`}},
		"csv unknown columns": {"i.csv", "name,driver,bmc,vlan\n", []string{
			`i.csv:1: unknown columns "bmc", "vlan"; the columns are name, driver, driver_info, secrets, resource_class, image, power_state, macs, network, fixed_ips, traits (portgroups, properties and the rest need the YAML or JSON form)`}},
		"csv no driver column": {"i.csv", "name,macs\n", []string{`i.csv:1: has no driver column`}},
		"csv a column twice":   {"i.csv", "name,driver,name\n", []string{`i.csv:1: column "name" is given twice`}},
		"csv short row":        {"i.csv", "name,driver\na\n", []string{`i.csv:2: machine "a": has 1 cells; the header has 2 columns`}},
		"csv a bare quote":     {"i.csv", "name,driver\na,b\"c\n", []string{`i.csv:2: is not valid CSV: bare " in non-quoted-field`}},
		"csv not key=value": {"i.csv", "name,driver,driver_info\na,ipmi,ipmi_address=x;hunter2\n",
			[]string{`i.csv:2: machine "a": driver_info: item 2 is not key=value`}},
		"csv a key twice": {"i.csv", "name,driver,driver_info\na,ipmi,k=1;k=2\n",
			[]string{`i.csv:2: machine "a": driver_info: key "k" is given twice`}},
		"csv more ips than macs": {"i.csv", "name,driver,macs,network,fixed_ips\na,ipmi,52:54:00:00:00:01,n,10.0.0.1;10.0.0.2\n",
			[]string{`i.csv:2: machine "a": fixed_ips: 2 addresses for 1 MACs: they pair with the macs in order, one each`}},
		"csv network without macs": {"i.csv", "name,driver,network\na,ipmi,n\n",
			[]string{`i.csv:2: machine "a": network: no macs to put on it`}},
		"csv ips without network": {"i.csv", "name,driver,macs,fixed_ips\na,ipmi,52:54:00:00:00:01,10.0.0.1\n",
			[]string{`i.csv:2: machine "a": ports[0].fixed_ips: need the port's network`}},
		"csv a bad list": {"i.csv", "name,driver,traits\na,ipmi,\"CUSTOM_A;\"\"CUSTOM\"\"B\"\n",
			[]string{`i.csv:2: machine "a": traits: is not a ;-separated list: `}},
		"csv empty": {"i.csv", "# nothing\n", []string{`i.csv: is empty: a CSV inventory starts with a header row`}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(tc.file, []byte(tc.data))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse: %v (%T); want Errors", err, err)
			}
			if len(errs) != len(tc.want) {
				t.Fatalf("errors:\n%v\nwant:\n%s", err, strings.Join(tc.want, "\n"))
			}
			for i, e := range errs {
				if !strings.HasPrefix(e.Error(), tc.want[i]) {
					t.Errorf("error %d:\n  %s\nwant a prefix\n  %s", i, e, tc.want[i])
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("an error quotes a driver_info item: %v", err)
			}
		})
	}
}

// TestHostileInputs: what a broken or hostile file holds is refused
// quickly, with a line where there is one, never a panic or a silently
// changed value.
func TestHostileInputs(t *testing.T) {
	deep := func(open, close string, n int) string {
		return `{"machines": [{"name": "a", "driver": "x", "properties": {"p": ` + strings.Repeat(open, n) + strings.Repeat(close, n) + `}}]}`
	}
	aliasBomb := "a: &a [x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		aliasBomb += n + ": &" + n + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = n
	}
	for name, tc := range map[string]struct {
		file string
		data []byte
		want string // "": accepted
	}{
		"too large":                {"i.yaml", append([]byte("machines: []\n#"), bytes.Repeat([]byte("x"), MaxFileSize)...), "i.yaml: larger than 16 MiB: split the inventory"},
		"json nested deep":         {"i.json", []byte(deep("[", "]", 40)), "i.json:1: machines[0].properties.p[0][0]"},
		"json nested very deep":    {"i.json", []byte(deep("[", "]", 200000)), "nested deeper than any inventory needs"},
		"yaml nested deep":         {"i.yaml", []byte(deep("[", "]", 40)), "i.yaml: machines[0].properties.p[0][0]"},
		"yaml nested very deep":    {"i.yaml", []byte(deep("[", "]", 200000)), "i.yaml: is not valid YAML: exceeded max depth of 10000"},
		"json nested, allowed":     {"i.json", []byte(deep("[", "]", 20)), ""},
		"invalid UTF-8":            {"i.yaml", []byte("machines:\n  - name: a\xff\n"), "i.yaml:2: is not valid UTF-8: save it as UTF-8"},
		"invalid UTF-8 in CSV":     {"i.csv", []byte("name,driver\na,b\n\xc3(,x\n"), "i.csv:3: is not valid UTF-8"},
		"UTF-16":                   {"i.json", []byte{0xFF, 0xFE, '{', 0}, "i.json: is UTF-16: save it as UTF-8"},
		"a NUL":                    {"i.json", []byte("{\"machines\": [\n{\"name\": \"a\x00\"}]}"), "i.json:2: holds a NUL character"},
		"a BOM, JSON":              {"i.json", []byte("\ufeff{\"machines\": []}"), ""},
		"a BOM, YAML":              {"i.yaml", []byte("\ufeffmachines: []\n"), ""},
		"a BOM, CSV":               {"i.csv", []byte("\ufeffname,driver\r\na,b\r\n"), ""},
		"CRLF, YAML":               {"i.yaml", []byte("machines:\r\n  - name: a\r\n    driver: b\r\n"), ""},
		"CRLF, JSON":               {"i.json", []byte("{\r\n\"machines\": [\r\n{\"name\": \"a\", \"driver\": \"b\"}]}\r\n"), ""},
		"yaml duplicate key":       {"i.yaml", []byte("machines:\n  - name: a\n    driver: b\n    name: c\n"), "i.yaml:4: a key is given twice: key \"name\" already set in map"},
		"yaml duplicate top key":   {"i.yaml", []byte("machines: []\nmachines: []\n"), "i.yaml:2: a key is given twice"},
		"json duplicate key":       {"i.json", []byte("{\"machines\": [\n{\"name\": \"a\", \"driver\": \"b\",\n \"name\": \"c\"}]}"), `i.json:3: machines[0]: key "name" is given twice`},
		"json duplicate nested":    {"i.json", []byte(`{"machines": [{"driver": "b", "driver_info": {"k": 1, "k": 2}}]}`), `i.json:1: machines[0].driver_info: key "k" is given twice`},
		"json lone surrogate":      {"i.json", []byte(`{"machines": [{"name": "a\ud800", "driver": "b"}]}`), `i.json:1: holds a \u escape of a lone UTF-16 surrogate`},
		"json surrogate pair":      {"i.json", []byte(`{"machines": [{"name": "a", "driver": "b", "driver_info": {"k": "\ud83d\ude00 \\ud800"}}]}`), ""},
		"yaml two documents":       {"i.yaml", []byte("machines: []\n---\nmachines: []\n"), "i.yaml: holds more than one YAML document"},
		"yaml .nan":                {"i.yaml", []byte("machines: [{name: a, driver: b, properties: {x: .nan}}]\n"), "i.yaml: machines[0].properties.x: is not a number JSON can hold"},
		"yaml non-string key":      {"i.yaml", []byte("machines: [{name: a, driver: b, driver_info: {on: 1}}]\n"), "i.yaml: machines[0].driver_info: key true is a boolean, not a string"},
		"yaml alias bomb":          {"i.yaml", []byte(aliasBomb), "i.yaml: is not valid YAML: document contains excessive aliasing"},
		"csv a line break":         {"i.csv", []byte("name,driver,driver_info\na,b,\"k=x\ny\"\n"), `i.csv:2: machine "a": driver_info: is not a ;-separated list: it holds a line break`},
		"csv a line break, quoted": {"i.csv", []byte("name,driver,driver_info\na,b,\"\"\"k=x\ny\"\"\"\n"), ""},
		"csv a list with a break":  {"i.csv", []byte("name,driver,traits\na,b,\"CUSTOM_A\n;CUSTOM_B\"\n"), `i.csv:2: machine "a": traits: is not a ;-separated list: it holds a line break`},
		"many machines":            {"i.json", manyMachines(10000), ""},
		"many errors are all kept": {"i.json", manyBadMachines(200), "… and 150 more"},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse(tc.file, tc.data)
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("took %v", took)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Parse: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Parse: %.300v; want %q", err, tc.want)
			}
		})
	}
}

func manyMachines(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"machines": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name": "m-` + itoa(i) + `", "driver": "ipmi", "ports": [{"mac": "52:54:00:00:` + hexByte(i/256) + `:` + hexByte(i%256) + `"}]}`)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func manyBadMachines(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"machines": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name": "m-` + itoa(i) + `"}`)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func itoa(i int) string { return strings.TrimSpace(string(json.Number(jsonInt(i)))) }

func jsonInt(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func hexByte(i int) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[i/16%16], digits[i%16]})
}
