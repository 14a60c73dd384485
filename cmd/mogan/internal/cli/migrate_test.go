package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/migrate"
)

// distinctive is a secret value no output may ever hold.
const distinctive = "Xy9-never-print-me"

// migrateFake is fakeAPI with only the migrations API.
func migrateFake() *fakeAPI {
	f := newFake()
	f.mig = newFakeMigrations()
	return f
}

// writeFile writes a file of the test's own, with mode.
func writeFile(t *testing.T, name, data string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// inventoryOf is a YAML inventory of machines named names, each with an
// ipmi_password secret.
func inventoryOf(names ...string) string {
	var b strings.Builder
	b.WriteString("machines:\n")
	for i, n := range names {
		b.WriteString("  - name: " + n + "\n    driver: ipmi\n    driver_info: {ipmi_address: 10.0.0." + itoa(i+1) + "}\n    secrets: [ipmi_password]\n")
		b.WriteString("    ports: [{mac: \"52:54:00:00:00:" + hex2(i+1) + "\", network: prov}]\n")
	}
	return b.String()
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func hex2(i int) string { return hex.EncodeToString([]byte{byte(i)}) }

const secretsYAML = "\"*\":\n  ipmi_password: " + distinctive + "\n  redfish_password: not-asked-for\n"

// migResult is one machine of `mogan migrate -f json`.
type migResult struct {
	Machine   string         `json:"machine"`
	Migration *string        `json:"migration_uuid"`
	Node      *string        `json:"node_uuid"`
	Server    *string        `json:"server_uuid"`
	Outcome   string         `json:"outcome"`
	Reason    *string        `json:"reason"`
	RequestID *string        `json:"request_id"`
	Plan      map[string]any `json:"plan"`
}

func decodeMigResults(t *testing.T, stdout string) []migResult {
	t.Helper()
	var rs []migResult
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		t.Fatalf("-f json output %q: %v", stdout, err)
	}
	return rs
}

// outcomes is machine → "outcome: reason".
func outcomes(rs []migResult) map[string]string {
	out := map[string]string{}
	for _, r := range rs {
		s := r.Outcome
		if r.Reason != nil {
			s += ": " + *r.Reason
		}
		out[r.Machine] = s
	}
	return out
}

// TestMigrateInventoryOutcomes: each way a migration ends is one outcome
// word with its reason and request id, and the exit code follows.
func TestMigrateInventoryOutcomes(t *testing.T) {
	for name, tc := range map[string]struct {
		machines []string
		plan     map[string]string
		args     []string
		wantCode int
		want     map[string]string
	}{
		"all migrated": {
			machines: []string{"a", "b"}, wantCode: ExitOK,
			want: map[string]string{"a": "migrated", "b": "migrated"},
		},
		"every way to end": {
			machines: []string{"ok", "fails", "rolls", "refused"},
			plan:     map[string]string{"fails": "failed", "rolls": "rolled_back", "refused": "refuse 409"},
			args:     []string{"--concurrency", "1"},
			wantCode: ExitFailed,
			want: map[string]string{
				"ok":      "migrated",
				"fails":   "failed: step adopt: Neutron said no; the machine stays in the target as it is; once fixed: mogan migration retry 00000000-0000-0000-0000-000000000002 (request req-2)",
				"rolls":   "failed: step enroll: MAC 52:54:00:00:00:01 already in Ironic; rolled back: nothing of it is left; fix it and rerun (request req-3)",
				"refused": "failed: Machine refused refused by the fake. (HTTP 409, request req-fake)",
			},
		},
		"dry run": {
			machines: []string{"a", "nope"}, plan: map[string]string{"nope": "refuse 400"}, args: []string{"--dry-run"},
			wantCode: ExitFailed,
			want:     map[string]string{"a": "would migrate", "nope": "failed: Machine nope refused by the fake. (HTTP 400, request req-fake)"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			fake := migrateFake()
			for k, v := range tc.plan {
				fake.mig.plan[k] = v
			}
			srv := fake.serve(t)
			inv := writeFile(t, "inv.yaml", inventoryOf(tc.machines...), 0o644)
			sec := writeFile(t, "secrets.yaml", secretsYAML, 0o600)
			args := append([]string{"migrate", "--url", srv.URL, "-i", inv, "--secrets-file", sec, "-f", "json", "--poll-interval", "1ms"}, tc.args...)
			code, stdout, stderr := run{}.mogan(t, args...)
			if code != tc.wantCode {
				t.Errorf("exit %d; want %d\n%s", code, tc.wantCode, stderr)
			}
			got := decodeMigResults(t, stdout)
			if diff := cmp.Diff(tc.want, outcomes(got)); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			for _, r := range got {
				if r.Outcome == "failed" && r.RequestID == nil {
					t.Errorf("%s failed without its request id", r.Machine)
				}
			}
			if got := strings.Count("\n"+stderr, "\n[") + 0; got != len(tc.machines) {
				t.Errorf("%d progress lines; want %d:\n%s", got, len(tc.machines), stderr)
			}
			if strings.Contains(stdout+stderr, distinctive) {
				t.Errorf("a secret was printed:\n%s\n%s", stdout, stderr)
			}
		})
	}
}

// TestMigrateRerunSkips: a rerun sends the same idempotency keys, so what
// an earlier run finished is skipped and nothing is migrated twice.
func TestMigrateRerunSkips(t *testing.T) {
	fake := migrateFake()
	srv := fake.serve(t)
	inv := writeFile(t, "inv.yaml", inventoryOf("a", "b"), 0o644)
	sec := writeFile(t, "secrets.yaml", secretsYAML, 0o600)
	args := []string{"migrate", "--url", srv.URL, "-i", inv, "--secrets-file", sec, "-f", "json", "--poll-interval", "1ms", "--concurrency", "1"}
	if code, _, stderr := (run{}).mogan(t, args...); code != ExitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := run{}.mogan(t, args...)
	if code != ExitOK {
		t.Fatalf("rerun: exit %d\n%s", code, stderr)
	}
	want := map[string]string{
		"a": "skipped: done by an earlier run (migration 00000000-0000-0000-0000-000000000001)",
		"b": "skipped: done by an earlier run (migration 00000000-0000-0000-0000-000000000002)",
	}
	if diff := cmp.Diff(want, outcomes(decodeMigResults(t, stdout))); diff != "" {
		t.Errorf("rerun (-want +got):\n%s", diff)
	}
	if len(fake.mig.migrations) != 2 {
		t.Errorf("%d migrations; want 2", len(fake.mig.migrations))
	}
	if !strings.Contains(stderr, "2 machines: 2 skipped") {
		t.Errorf("summary: %s", stderr)
	}
}

// TestMigrateRequestBody: the body of POST /v1/migrations: the machine,
// the target, the server only with --adopt, only the secrets the machine
// names, and the idempotency key.
func TestMigrateRequestBody(t *testing.T) {
	key := func(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }
	machine := map[string]any{"name": "db-01", "driver": "ipmi", "driver_info": map[string]any{"ipmi_address": "10.0.0.1"},
		"secrets": []any{"ipmi_password"}, "ports": []any{map[string]any{"mac": "52:54:00:00:00:01", "network": "prov"}}}
	for name, tc := range map[string]struct {
		args []string
		want map[string]any
	}{
		"no adoption": {
			want: map[string]any{"source": map[string]any{"machine": machine}, "target": map[string]any{"backend": "new"},
				"secrets": map[string]any{"ipmi_password": distinctive}, "idempotency_key": key("new\ndb-01")},
		},
		"adopted, with everything": {
			args: []string{"--adopt", "--name-template", "{{.name}}-{{.backend}}-{{.driver}}{{.image}}", "--description", "from rack 7",
				"--property", "rack=7", "--project", "p-1", "--user", "u-1"},
			want: map[string]any{"source": map[string]any{"machine": machine}, "target": map[string]any{"backend": "new"},
				"server":  map[string]any{"name": "db-01-new-ipmi", "description": "from rack 7", "metadata": map[string]any{"rack": "7"}, "project_id": "p-1", "user_id": "u-1"},
				"secrets": map[string]any{"ipmi_password": distinctive}, "idempotency_key": key("new\ndb-01")},
		},
		"adopted, the default name": {
			args: []string{"--adopt", "--to", "new"},
			want: map[string]any{"source": map[string]any{"machine": machine}, "target": map[string]any{"backend": "new"},
				"server":  map[string]any{"name": "db-01"},
				"secrets": map[string]any{"ipmi_password": distinctive}, "idempotency_key": key("new\ndb-01")},
		},
	} {
		t.Run(name, func(t *testing.T) {
			fake := migrateFake()
			srv := fake.serve(t)
			inv := writeFile(t, "inv.json", `{"machines": [{"name": "db-01", "driver": "ipmi", "driver_info": {"ipmi_address": "10.0.0.1"},
				"secrets": ["ipmi_password"], "ports": [{"mac": "52:54:00:00:00:01", "network": "prov"}]}]}`, 0o644)
			sec := writeFile(t, "s.yaml", secretsYAML, 0o600)
			args := append([]string{"migrate", "--url", srv.URL, "-i", inv, "--secrets-file", sec, "--poll-interval", "1ms"}, tc.args...)
			if code, _, stderr := (run{}).mogan(t, args...); code != ExitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if len(fake.mig.bodies) != 1 {
				t.Fatalf("%d bodies posted", len(fake.mig.bodies))
			}
			var got map[string]any
			if err := json.Unmarshal(fake.mig.bodies[0], &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIdempotencyKeys: the keys are the SHA-256, in hex, of the target and
// the machine's name, or of the source, the node and the target, each
// joined by a newline (as `printf 'west\ndb-01' | sha256sum` says).
func TestIdempotencyKeys(t *testing.T) {
	for name, tc := range map[string]struct{ got, want string }{
		"inventory":      {migrate.InventoryKey("west", "db-01"), "07350fb9742b0d3d3afd3838e68ee5429eabada24576be6176d852de1dfa2bee"},
		"handoff":        {migrate.HandoffKey("east", "aaaaaaaa-0000-0000-0000-000000000001", "west"), "df7076b6a968f4768f40aa43afa342ef33485651b1313140ad86d3fd63e26c4e"},
		"another target": {migrate.InventoryKey("east", "db-01"), "not the same"},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.want == "not the same" {
				if tc.got == migrate.InventoryKey("west", "db-01") {
					t.Error("two targets, one key")
				}
				return
			}
			if tc.got != tc.want {
				t.Errorf("key = %s; want %s", tc.got, tc.want)
			}
		})
	}
}

// TestMigrateTarget: --to is checked against GET /v1/backends, and may be
// left out when exactly one backend can enroll.
func TestMigrateTarget(t *testing.T) {
	enroll := func(name string) map[string]any {
		return map[string]any{"name": name, "driver": "ironic", "capabilities": []string{"enroll"}, "status": "up"}
	}
	other := map[string]any{"name": "noop", "driver": "noop", "capabilities": []string{}, "status": "up"}
	for name, tc := range map[string]struct {
		backends []map[string]any
		args     []string
		wantCode int
		wantTo   string
		wantErr  string
	}{
		"one can enroll":           {[]map[string]any{other, enroll("b")}, nil, ExitOK, "b", ""},
		"--to it":                  {[]map[string]any{other, enroll("b")}, []string{"--to", "b"}, ExitOK, "b", ""},
		"several can enroll":       {[]map[string]any{enroll("a"), enroll("b")}, nil, ExitUsage, "", "give --to: several backends can enroll machines: a, b"},
		"several, --to one":        {[]map[string]any{enroll("a"), enroll("b")}, []string{"--to", "a"}, ExitOK, "a", ""},
		"none can enroll":          {[]map[string]any{other}, nil, ExitUsage, "", "no backend of the API can enroll machines (backends: noop)"},
		"--to that cannot enroll":  {[]map[string]any{other, enroll("b")}, []string{"--to", "noop"}, ExitUsage, "", "--to noop: backend noop (driver noop) cannot enroll machines; those that can: b"},
		"--to unknown":             {[]map[string]any{other, enroll("b")}, []string{"--to", "c"}, ExitUsage, "", "--to c: no such backend; the API's backends are noop, b"},
		"--to a down backend":      {[]map[string]any{{"name": "b", "capabilities": []string{"enroll"}, "status": "down", "reason": "plugin gone"}}, []string{"--to", "b"}, ExitFailed, "", "backend b is down: plugin gone"},
		"an older API, --to":       {nil, []string{"--to", "b"}, ExitOK, "b", ""},
		"an older API, without it": {nil, nil, ExitFailed, "", "reading the backends (GET /v1/backends) to find the target: The resource could not be found. (HTTP 404"},
	} {
		t.Run(name, func(t *testing.T) {
			fake := migrateFake()
			fake.mig.backends = tc.backends
			srv := fake.serve(t)
			inv := writeFile(t, "inv.yaml", "machines: [{name: a, driver: fake-hardware}]\n", 0o644)
			code, _, stderr := run{}.mogan(t, append([]string{"migrate", "--url", srv.URL, "-i", inv, "--poll-interval", "1ms"}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("exit %d, stderr %q; want %d with %q", code, stderr, tc.wantCode, tc.wantErr)
			}
			if tc.wantTo == "" {
				if len(fake.mig.bodies) > 0 {
					t.Errorf("posted %d bodies", len(fake.mig.bodies))
				}
				return
			}
			var body struct {
				Target struct{ Backend string } `json:"target"`
			}
			if len(fake.mig.bodies) != 1 || json.Unmarshal(fake.mig.bodies[0], &body) != nil || body.Target.Backend != tc.wantTo {
				t.Errorf("bodies %s; want target %s", fake.mig.bodies, tc.wantTo)
			}
		})
	}
}

// TestMigrateInputErrors: an inventory or secrets file that is wrong is
// named (file, line, machine, field), exit 2, and not one request is
// sent.
func TestMigrateInputErrors(t *testing.T) {
	good := inventoryOf("a", "b")
	for name, tc := range map[string]struct {
		file, inventory, secrets string
		secretsMode              os.FileMode
		noSecrets                bool
		want                     string
	}{
		"a bad MAC": {inventory: "machines:\n  - name: db-01\n    driver: ipmi\n    ports: [{mac: zz}]\n",
			want: `inv.yaml: machine "db-01": ports[0].mac: "zz" is not a MAC address`},
		"a JSON line": {file: "inv.json", inventory: "{\"machines\": [\n{\"name\": \"a\", \"driver\": \"x\"},\n{\"name\": \"b\", \"driver\": \"x\", \"power_state\": \"on\"}]}",
			want: `inv.json:3: machine "b": power_state: "on" is not a power state`},
		"unknown CSV columns": {inventory: "name,driver,bmc\na,ipmi,x\n", want: `inv.yaml:1: unknown column "bmc"`},
		"no name":             {inventory: "machines: [{driver: ipmi}]\n", want: "inv.yaml: machines[0]: name: is required by mogan migrate"},
		"a missing secret": {inventory: good, secrets: "a: {ipmi_password: x}\nb: {redfish_password: y}\n",
			want: `inv.yaml: machine "b": secrets[0]: "ipmi_password" has no value: `},
		"no secrets file": {inventory: good, noSecrets: true,
			want: `inv.yaml: machine "a": secrets[0]: "ipmi_password" has no value: no secrets file was given`},
		"a readable secrets file": {inventory: good, secrets: secretsYAML, secretsMode: 0o644, want: "(mode 0644): a secrets file must not be; run: chmod 600 "},
		"a typo in the secrets":   {inventory: good, secrets: secretsYAML + "c: {ipmi_password: x}\n", want: `machine "c": no machine of that name in `},
		"a password in the inventory": {inventory: "machines: [{name: a, driver: ipmi, driver_info: {ipmi_password: " + distinctive + "}}]\n",
			want: `inv.yaml: machine "a": driver_info.ipmi_password: Ironic hides this field: it is a secret, so it goes in the secrets file`},
		"a secrets file that is not YAML": {inventory: good, secrets: "a: [" + distinctive + "\n", want: "is not valid YAML"},
		"no such inventory":               {inventory: "", want: "no such file or directory"},
	} {
		t.Run(name, func(t *testing.T) {
			fake := migrateFake()
			srv := fake.serve(t)
			file := tc.file
			if file == "" {
				file = "inv.yaml"
			}
			inv := filepath.Join(t.TempDir(), file)
			if tc.inventory != "" {
				inv = writeFile(t, file, tc.inventory, 0o644)
			}
			args := []string{"migrate", "--url", srv.URL, "-i", inv}
			if !tc.noSecrets {
				mode := tc.secretsMode
				if mode == 0 {
					mode = 0o600
				}
				s := tc.secrets
				if s == "" {
					s = secretsYAML
				}
				args = append(args, "--secrets-file", writeFile(t, "secrets.yaml", s, mode))
			}
			code, stdout, stderr := run{}.mogan(t, args...)
			if code != ExitUsage {
				t.Errorf("exit %d; want 2\n%s", code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q; want %q", stderr, tc.want)
			}
			if strings.Contains(stderr, "--help") {
				t.Errorf("a file's mistake is no usage error: %s", stderr)
			}
			if fake.mig.bodies != nil || fake.mig.gets > 0 || len(fake.listed) > 0 {
				t.Errorf("requests were sent: %d bodies", len(fake.mig.bodies))
			}
			if strings.Contains(stdout+stderr, distinctive) {
				t.Errorf("a secret was printed: %s", stderr)
			}
		})
	}
}

// TestMigrateUsageErrors: a command line mixing the forms is exit 2 and
// sends nothing.
func TestMigrateUsageErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no form":                  {[]string{}, "give --inventory FILE"},
		"inventory and from":       {[]string{"-i", "x", "--from", "old"}, "not both"},
		"inventory and nodes":      {[]string{"-i", "x", "n1"}, "--inventory takes no NODE arguments"},
		"inventory and --all":      {[]string{"-i", "x", "--all"}, "--all does not go with --inventory"},
		"inventory and a map":      {[]string{"-i", "x", "--network-map", "a=b"}, "--network-map does not go with --inventory"},
		"a template without adopt": {[]string{"-i", "x", "--name-template", "{{.name}}"}, "--name-template does not go with a migration without --adopt"},
		"a bad template":           {[]string{"-i", "x", "--adopt", "--name-template", "{{.name"}, "--name-template"},
		"handoff without nodes":    {[]string{"--from", "old", "--to", "new"}, "give the NODE_UUIDs of old to migrate, or --all"},
		"handoff nodes and --all":  {[]string{"--from", "old", "--all", "n1"}, "not both"},
		"export with --to":         {[]string{"--from", "old", "--export", "--to", "new"}, "--to does not go with --export"},
		"export as a table":        {[]string{"--from", "old", "--export", "-f", "table"}, "--format for --export must be yaml, json or csv"},
		"a run as yaml":            {[]string{"-i", "x", "-f", "yaml"}, "--format must be table or json"},
		"zero concurrency":         {[]string{"-i", "x", "--concurrency", "0"}, "--concurrency must be at least 1"},
		"a bad network map":        {[]string{"--from", "old", "--to", "new", "--network-map", "ab", "n1"}, `--network-map "ab": want SOURCE=TARGET`},
		"same source and target":   {[]string{"--from", "new", "--to", "new", "n1"}, "--from and --to are both new"},
	} {
		t.Run(name, func(t *testing.T) {
			fake := migrateFake()
			srv := fake.serve(t)
			code, _, stderr := run{}.mogan(t, append([]string{"migrate", "--url", srv.URL}, tc.args...)...)
			if code != ExitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d stderr %q; want 2 with %q", code, stderr, tc.want)
			}
			if len(fake.mig.bodies) > 0 {
				t.Errorf("posted %d", len(fake.mig.bodies))
			}
		})
	}
}

// TestMigrateCSVAndYAMLSameBodies: the CSV and the YAML form of one
// inventory (etc's samples, and one with quoting) send the same requests.
func TestMigrateCSVAndYAMLSameBodies(t *testing.T) {
	sample := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "etc", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	secrets := writeFile(t, "secrets.yaml", secretsYAML, 0o600)
	onlyDB := strings.Replace(sample("secrets.sample.yaml"), "web-01:\n  redfish_password: change-me-for-web-01\n", "", 1)
	secretsDB := writeFile(t, "secrets-db.yaml", onlyDB, 0o600)
	yamlDB := sample("inventory.sample.yaml")
	yamlDB = yamlDB[:strings.Index(yamlDB, "\n  # A bond of two NICs")] + "\n"
	for name, tc := range map[string]struct {
		yaml, csv, secrets string
	}{
		"etc's samples": {yamlDB, sample("inventory.sample.csv"), secretsDB},
		"quoting": {
			"machines:\n  - {name: q, driver: ipmi, driver_info: {\"a;b\": \"c=d;e\", x: \"1\"}, secrets: [ipmi_password], traits: [CUSTOM_X], ports: [{mac: \"52:54:00:00:00:01\", network: net}, {mac: \"52:54:00:00:00:02\", network: net, fixed_ips: [\"10.0.0.2\"]}]}\n",
			"name,driver,driver_info,secrets,macs,network,fixed_ips,traits\nq,ipmi,\"\"\"a;b=c=d;e\"\";x=1\",ipmi_password,52:54:00:00:00:01;52:54:00:00:00:02,net,;10.0.0.2,CUSTOM_X\n",
			secrets,
		},
	} {
		t.Run(name, func(t *testing.T) {
			bodies := map[string][]string{}
			for form, data := range map[string]string{"yaml": tc.yaml, "csv": tc.csv} {
				fake := migrateFake()
				srv := fake.serve(t)
				inv := writeFile(t, "inventory."+form, data, 0o644)
				code, _, stderr := run{}.mogan(t, "migrate", "--url", srv.URL, "-i", inv, "--secrets-file", tc.secrets, "--adopt", "--poll-interval", "1ms", "--concurrency", "1")
				if code != ExitOK {
					t.Fatalf("%s: exit %d\n%s", form, code, stderr)
				}
				for _, b := range fake.mig.bodies {
					bodies[form] = append(bodies[form], string(b))
				}
			}
			if len(bodies["yaml"]) == 0 {
				t.Fatal("nothing posted")
			}
			if diff := cmp.Diff(bodies["yaml"], bodies["csv"]); diff != "" {
				t.Errorf("bodies (-yaml +csv):\n%s", diff)
			}
		})
	}
}

// TestMigrateDryRun: ?dry_run=true for each machine, nothing created; an
// API that ignores dry_run started one: the run says so and stops.
func TestMigrateDryRun(t *testing.T) {
	fake := migrateFake()
	srv := fake.serve(t)
	inv := writeFile(t, "inv.yaml", inventoryOf("a", "b", "c"), 0o644)
	sec := writeFile(t, "s.yaml", secretsYAML, 0o600)
	code, stdout, stderr := run{}.mogan(t, "migrate", "--url", srv.URL, "-i", inv, "--secrets-file", sec, "--dry-run", "-f", "json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	got := decodeMigResults(t, stdout)
	if diff := cmp.Diff(map[string]string{"a": "would migrate", "b": "would migrate", "c": "would migrate"}, outcomes(got)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if got[0].Plan["dry_run"] != true {
		t.Errorf("the plan is not in -f json: %v", got[0].Plan)
	}
	if fake.mig.dryRuns != 3 || len(fake.mig.migrations) != 0 {
		t.Errorf("%d dry runs, %d migrations; want 3, 0", fake.mig.dryRuns, len(fake.mig.migrations))
	}

	fake = migrateFake()
	fake.mig.noDryRun = true
	srv = fake.serve(t)
	code, stdout, _ = run{}.mogan(t, "migrate", "--url", srv.URL, "-i", inv, "--secrets-file", sec, "--dry-run", "-f", "json", "--concurrency", "1")
	if code != ExitFailed {
		t.Errorf("exit %d; want 1", code)
	}
	want := map[string]string{
		"a": "failed: this API does not support dry runs: it started migration 00000000-0000-0000-0000-000000000001 (mogan migration cancel 00000000-0000-0000-0000-000000000001 stops it)",
		"b": "failed: " + migrate.ReasonNotStarted, "c": "failed: " + migrate.ReasonNotStarted,
	}
	if diff := cmp.Diff(want, outcomes(decodeMigResults(t, stdout))); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

// TestMigrateTable: the default output is the outcome table and a
// summary.
func TestMigrateTable(t *testing.T) {
	fake := migrateFake()
	fake.mig.plan["b"] = "failed"
	srv := fake.serve(t)
	inv := writeFile(t, "inv.yaml", inventoryOf("a", "b"), 0o644)
	sec := writeFile(t, "s.yaml", secretsYAML, 0o600)
	code, stdout, stderr := run{}.mogan(t, "migrate", "--url", srv.URL, "-i", inv, "--secrets-file", sec, "--adopt", "--poll-interval", "1ms")
	if code != ExitFailed {
		t.Errorf("exit %d; want 1", code)
	}
	rows := tableRows(t, stdout)
	if diff := cmp.Diff([]string{"MACHINE", "MIGRATION", "NODE UUID", "SERVER UUID", "OUTCOME", "REASON"}, rows[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if got := column(t, rows, "OUTCOME"); got["a"] != "migrated" || got["b"] != "failed" {
		t.Errorf("outcomes %v", got)
	}
	if got := column(t, rows, "SERVER UUID"); got["a"] == "" {
		t.Errorf("no server for a: %v", got)
	}
	if !strings.Contains(stderr, "2 machines: 1 migrated, 1 failed") {
		t.Errorf("stderr lacks the summary: %s", stderr)
	}
	if !strings.Contains(stderr, "machine a: migrated as node 40de0000-") {
		t.Errorf("stderr lacks a's progress line: %s", stderr)
	}
}

// TestMigrateFollowsThroughARestart: reads that fail while the API
// restarts are tried again; the migration is still followed to its end.
func TestMigrateFollowsThroughARestart(t *testing.T) {
	fake := migrateFake()
	fake.mig.getFails = 3
	srv := fake.serve(t)
	inv := writeFile(t, "inv.yaml", "machines: [{name: a, driver: fake-hardware}]\n", 0o644)
	code, stdout, stderr := run{}.mogan(t, "migrate", "--url", srv.URL, "-i", inv, "-f", "json", "--poll-interval", "1ms")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if got := outcomes(decodeMigResults(t, stdout)); got["a"] != "migrated" {
		t.Errorf("outcome %v", got)
	}
}

// TestMigrateInterrupted: Ctrl-C starts no more migrations and follows
// those running to their end; a rerun carries on and migrates each
// machine exactly once.
func TestMigrateInterrupted(t *testing.T) {
	fake := migrateFake()
	machines := []string{"a", "b", "c", "d", "e"}
	for _, m := range machines {
		fake.mig.plan[m] = "hold"
	}
	fake.mig.started = make(chan string, 10)
	srv := fake.serve(t)
	inv := writeFile(t, "inv.yaml", inventoryOf(machines...), 0o644)
	sec := writeFile(t, "s.yaml", secretsYAML, 0o600)
	args := []string{"migrate", "--url", srv.URL, "-i", inv, "--secrets-file", sec, "-f", "json", "--poll-interval", "1ms", "--concurrency", "2"}
	interrupts := make(chan os.Signal, 1)
	stderr := &syncBuffer{}
	type out struct {
		code   int
		stdout string
	}
	done := make(chan out)
	go func() {
		code, stdout, _ := run{interrupts: interrupts, stderr: stderr}.mogan(t, args...)
		done <- out{code, stdout}
	}()
	running := map[string]bool{<-fake.mig.started: true, <-fake.mig.started: true}
	interrupts <- syscall.SIGINT
	for !strings.Contains(stderr.String(), "interrupted:") {
		time.Sleep(5 * time.Millisecond)
	}
	// The running ones are followed to their end after the interrupt.
	fake.mu.Lock()
	for m := range running {
		fake.mig.released[m] = true
	}
	fake.mu.Unlock()
	got := <-done
	if got.code != ExitFailed {
		t.Errorf("exit %d; want 1\n%s", got.code, stderr)
	}
	for _, r := range decodeMigResults(t, got.stdout) {
		want := "failed: " + migrate.ReasonNotStarted
		if running[r.Machine] {
			want = "migrated"
		}
		if got := outcomes([]migResult{r})[r.Machine]; got != want {
			t.Errorf("machine %s: %s; want %s", r.Machine, got, want)
		}
	}
	if len(fake.mig.migrations) != 2 {
		t.Errorf("%d migrations started; want the 2 running", len(fake.mig.migrations))
	}

	// The rerun: the two done are skipped, the others migrated, once.
	for _, m := range machines {
		fake.mig.released[m] = true
	}
	fake.mig.started = nil
	code, stdout, errs := run{}.mogan(t, args...)
	if code != ExitOK {
		t.Fatalf("rerun: exit %d\n%s", code, errs)
	}
	counts := map[string]int{}
	for _, r := range decodeMigResults(t, stdout) {
		counts[r.Outcome]++
	}
	if diff := cmp.Diff(map[string]int{"skipped": 2, "migrated": 3}, counts); diff != "" {
		t.Errorf("rerun outcomes (-want +got):\n%s", diff)
	}
	perMachine := map[string]int{}
	for _, m := range fake.mig.migrations {
		perMachine[m.label]++
	}
	for _, m := range machines {
		if perMachine[m] != 1 {
			t.Errorf("machine %s migrated %d times", m, perMachine[m])
		}
	}
}

// TestMigrateInterruptedTwice: a second Ctrl-C stops following the
// running migrations; they go on in the service, and the outcome says so.
func TestMigrateInterruptedTwice(t *testing.T) {
	fake := migrateFake()
	fake.mig.plan["a"] = "hold"
	fake.mig.started = make(chan string, 10)
	srv := fake.serve(t)
	inv := writeFile(t, "inv.yaml", inventoryOf("a", "b"), 0o644)
	sec := writeFile(t, "s.yaml", secretsYAML, 0o600)
	interrupts := make(chan os.Signal, 2)
	stderr := &syncBuffer{}
	done := make(chan string)
	go func() {
		_, stdout, _ := run{interrupts: interrupts, stderr: stderr}.mogan(t, "migrate", "--url", srv.URL, "-i", inv, "--secrets-file", sec, "-f", "json", "--poll-interval", "1ms", "--concurrency", "1")
		done <- stdout
	}()
	<-fake.mig.started
	interrupts <- syscall.SIGINT
	for !strings.Contains(stderr.String(), "interrupted:") {
		time.Sleep(5 * time.Millisecond)
	}
	interrupts <- syscall.SIGINT
	got := outcomes(decodeMigResults(t, <-done))
	if !strings.HasPrefix(got["a"], "failed: stopped following migration 00000000-0000-0000-0000-000000000001 (Ctrl-C): it goes on in the service") {
		t.Errorf("a: %s", got["a"])
	}
	if got["b"] != "failed: "+migrate.ReasonNotStarted {
		t.Errorf("b: %s", got["b"])
	}
}

// TestSecretsNeverPrinted: whatever a run prints — table, JSON, dry run,
// failures, refusals of the inventory — holds no secret's value; the API
// gets it in the one body that needs it.
func TestSecretsNeverPrinted(t *testing.T) {
	fake := migrateFake()
	fake.mig.plan["b"] = "failed"
	fake.mig.plan["c"] = "refuse 400"
	srv := fake.serve(t)
	inv := writeFile(t, "inv.yaml", inventoryOf("a", "b", "c"), 0o644)
	sec := writeFile(t, "s.yaml", secretsYAML, 0o600)
	common := []string{"migrate", "--url", srv.URL, "-i", inv, "--secrets-file", sec, "--poll-interval", "1ms"}
	var printed []string
	for _, extra := range [][]string{nil, {"-f", "json"}, {"--dry-run"}, {"--dry-run", "-f", "json"}, {"--adopt"}} {
		_, stdout, stderr := run{}.mogan(t, append(append([]string{}, common...), extra...)...)
		printed = append(printed, stdout, stderr)
	}
	for _, id := range []string{"00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"} {
		for _, cmd := range [][]string{{"migration", "show", id}, {"migration", "show", id, "-f", "json"}, {"migration", "list"}, {"migration", "list", "-f", "json"}} {
			_, stdout, stderr := run{}.mogan(t, append(cmd, "--url", srv.URL)...)
			printed = append(printed, stdout, stderr)
		}
	}
	for _, out := range printed {
		if strings.Contains(out, distinctive) {
			t.Errorf("printed a secret:\n%s", out)
		}
	}
	sent := 0
	for _, b := range fake.mig.bodies {
		if strings.Contains(string(b), `"secrets":{"ipmi_password":"`+distinctive+`"}`) {
			sent++
		}
		if strings.Contains(string(b), "not-asked-for") {
			t.Errorf("a secret no machine names was sent: %s", b)
		}
	}
	if sent != len(fake.mig.bodies) || sent == 0 {
		t.Errorf("%d of %d bodies carry the secret", sent, len(fake.mig.bodies))
	}
}
