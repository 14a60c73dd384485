package inventory

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// password is what no message, String or error may ever show.
const password = "Zq7-distinctive-pw"

const secretsFile = `"*":
  ipmi_password: ` + password + `-star
db-01:
  ipmi_password: ` + password + `
  octal: 0123
  yes_no: yes
  float: 1e3
web-01:
  redfish_password: "` + password + `-web"
`

// TestLoadSecretsMode: a secrets file its group or others may read or
// write is refused with the chmod to run; 0600 and 0400 are read.
func TestLoadSecretsMode(t *testing.T) {
	for name, tc := range map[string]struct {
		mode os.FileMode
		want string
	}{
		"0600": {0o600, ""},
		"0400": {0o400, ""},
		"0640": {0o640, "may be read by others than its owner (mode 0640): a secrets file must not be; run: chmod 600 "},
		"0604": {0o604, "(mode 0604)"},
		"0620": {0o620, "(mode 0620)"},
		"0644": {0o644, "chmod 600"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secrets.yaml")
			if err := os.WriteFile(path, []byte(secretsFile), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			s, err := LoadSecrets(path)
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("LoadSecrets: %v; want %q", err, tc.want)
			case tc.want != "" && !strings.HasPrefix(err.Error(), path+": "):
				t.Errorf("error %q does not name the file", err)
			case tc.want == "" && s.File() != path:
				t.Errorf("File() = %q", s.File())
			}
		})
	}
}

// TestSecretsFor: a machine's own entry wins over "*"; values are taken as
// written; every field named must get a value, else an error naming the
// machine and the field (and never a value).
func TestSecretsFor(t *testing.T) {
	s, err := ParseSecrets("s.yaml", []byte(secretsFile))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		machine string
		fields  []string
		want    map[string]Secret
		wantErr string
	}{
		"own entry":            {"db-01", []string{"ipmi_password"}, map[string]Secret{"ipmi_password": password}, ""},
		"as written":           {"db-01", []string{"octal", "yes_no", "float"}, map[string]Secret{"octal": "0123", "yes_no": "yes", "float": "1e3"}, ""},
		"from *":               {"app-7", []string{"ipmi_password"}, map[string]Secret{"ipmi_password": password + "-star"}, ""},
		"own and *":            {"web-01", []string{"redfish_password", "ipmi_password"}, map[string]Secret{"redfish_password": password + "-web", "ipmi_password": password + "-star"}, ""},
		"none needed":          {"web-01", nil, nil, ""},
		"missing":              {"web-01", []string{"redfish_password", "redfish_username"}, nil, `machine "web-01": secrets[1]: "redfish_username" has no value: s.yaml gives it neither under "web-01" nor under "*"`},
		"not another's values": {"app-7", []string{"redfish_password"}, nil, `machine "app-7": secrets[0]: "redfish_password" has no value`},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := s.For(tc.machine, tc.fields)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("For: %v; want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("secrets (-want +got):\n%s", diff)
			}
		})
	}
	var none *Secrets
	if _, err := none.For("a", []string{"ipmi_password"}); err == nil || !strings.Contains(err.Error(), `machine "a": secrets[0]: "ipmi_password" has no value: no secrets file was given`) {
		t.Errorf("For without a file: %v", err)
	}
}

// TestSecretsCheckNames: an entry that names no machine is a typo.
func TestSecretsCheckNames(t *testing.T) {
	s, err := ParseSecrets("s.yaml", []byte(secretsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckNames([]string{"db-01", "web-01", "other"}, "in the inventory"); err != nil {
		t.Errorf("CheckNames: %v", err)
	}
	err = s.CheckNames([]string{"db-1", "web-01"}, "in the inventory")
	if err == nil || err.Error() != `s.yaml: machine "db-01": no machine of that name in the inventory (a typo?)` {
		t.Errorf("CheckNames: %v", err)
	}
}

// TestParseSecretsRefuses: each malformed file is refused naming the
// entry and field, never with the value.
func TestParseSecretsRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		data, want string
	}{
		"a list":                {"- " + password + "\n", `s.yaml: must be a mapping of machine names (or "*") to {field: value}`},
		"a machine's value":     {"db-01: " + password + "\n", `s.yaml: machine "db-01": must be a mapping of driver_info fields to their values`},
		"a field's list":        {"db-01:\n  p: [" + password + "]\n", `s.yaml: machine "db-01": p: must be one value, not an array`},
		"a field's mapping":     {"'*':\n  p: {v: " + password + "}\n", `s.yaml: entry "*": p: must be one value, not an object`},
		"no value":              {"db-01:\n  p:\n", `s.yaml: machine "db-01": p: has no value`},
		"empty":                 {"db-01:\n  p: ''\n", `s.yaml: machine "db-01": p: is empty`},
		"a field twice":         {"db-01:\n  p: " + password + "\n  p: " + password + "x\n", `s.yaml:3: a key is given twice: key "p" already set in map`},
		"a boolean key":         {"db-01:\n  on: " + password + "\n", `s.yaml: db-01: key true is a boolean, not a string`},
		"syntax":                {"db-01:\n  p: " + password + "\n q: x\n", `s.yaml:2: is not valid YAML`},
		"an unclosed quote":     {"db-01:\n  p: \"" + password + "\n", `s.yaml:`},
		"a tab":                 {"db-01:\n\tp: " + password + "\n", `s.yaml:`},
		"invalid UTF-8":         {"db-01:\n  p: " + password + "\xff\n", `s.yaml:2: is not valid UTF-8`},
		"two documents":         {"db-01: {p: " + password + "}\n---\nx: {}\n", `s.yaml: holds more than one YAML document`},
		"an alias of a mapping": {"a: &x {p: " + password + "}\nb: *x\nc: [*x]\n", `s.yaml: machine "c": must be a mapping`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseSecrets("s.yaml", []byte(tc.data))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("ParseSecrets: %v; want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error shows the value: %v", err)
			}
		})
	}
	s, err := ParseSecrets("s.yaml", nil)
	if err != nil || len(s.Names()) != 0 {
		t.Errorf("an empty file: %v, %v", s, err)
	}
}

// TestSecretsNeverShown: no fmt verb, String, JSON of the Secrets or
// error of a mangled file shows a value; a Secret marshals as itself only
// in a request body.
func TestSecretsNeverShown(t *testing.T) {
	s, err := ParseSecrets("s.yaml", []byte(secretsFile))
	if err != nil {
		t.Fatal(err)
	}
	values, err := s.For("db-01", []string{"ipmi_password"})
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		shown = append(shown, fmt.Sprintf(verb, s), fmt.Sprintf(verb, *s), fmt.Sprintf(verb, values), fmt.Sprintf(verb, values["ipmi_password"]))
	}
	shown = append(shown, s.String())
	// Every file with one byte taken out, and one byte doubled.
	for i := range len(secretsFile) {
		for _, mangled := range []string{secretsFile[:i] + secretsFile[i+1:], secretsFile[:i+1] + secretsFile[i:]} {
			if _, err := ParseSecrets("s.yaml", []byte(mangled)); err != nil {
				shown = append(shown, err.Error())
			}
		}
	}
	for _, out := range shown {
		if strings.Contains(out, password) || strings.Contains(out, fmt.Sprintf("%x", password)) {
			t.Errorf("shown: %s", out)
		}
	}
	if !strings.Contains(fmt.Sprint(s), "db-01") {
		t.Errorf("String %q does not name the entries", s)
	}
	body, err := json.Marshal(map[string]any{"secrets": values})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"ipmi_password":"`+password+`"`) {
		t.Errorf("a request body %s lacks the value", body)
	}
}
