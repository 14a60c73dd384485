package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/inventory"
)

const (
	oldA = "a0000000-0000-0000-0000-00000000000a" // manageable, named app-1
	oldB = "b0000000-0000-0000-0000-00000000000b" // manageable, no name
	oldC = "c0000000-0000-0000-0000-00000000000c" // not manageable (an instance in the old cloud)
)

// handoffFake is an API whose backend old holds three nodes and whose
// backend new can enroll.
func handoffFake() *fakeAPI {
	f := migrateFake()
	f.backends = []string{"old", "new"}
	c := node(oldC, "db-9", "old", "gold")
	c["manageable"], c["reason"] = false, "node is associated with instance x"
	f.nodes = []map[string]any{node(oldA, "app-1", "old", "gold"), node(oldB, "", "old", "gold"), c}
	f.mig.exports = map[string]map[string]any{
		oldA: {"name": "app-1", "driver": "ipmi", "driver_info": map[string]any{"ipmi_address": "10.0.0.1", "ipmi_port": "623"},
			"secrets": []any{"ipmi_password"}, "resource_class": "gold",
			"ports": []any{map[string]any{"mac": "52:54:00:00:00:0a", "network": "prov", "fixed_ips": []any{"10.20.0.10"}}}},
		oldB: {"name": "", "driver": "redfish", "driver_info": map[string]any{"redfish_address": "https://10.0.0.2"},
			"secrets": []any{"redfish_password"}, "properties": map[string]any{"cpus": 8},
			"ports": []any{
				map[string]any{"mac": "52:54:00:00:00:0b", "pxe_enabled": true, "physical_network": "physnet1"},
				map[string]any{"mac": "52:54:00:00:00:0c", "pxe_enabled": false, "physical_network": "physnet1"},
			},
			"portgroups": []any{map[string]any{"name": "bond0", "mac": "52:54:00:00:00:0b", "mode": "802.3ad", "ports": []any{"52:54:00:00:00:0b", "52:54:00:00:00:0c"}}}},
		oldC: {"name": "db-9", "driver": "ipmi", "ports": []any{map[string]any{"mac": "zz"}}},
	}
	return f
}

func sha(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }

// TestHandoffBodies: a handoff's body names the source node and the
// target, maps networks and images, takes the node's secrets by its name
// (or "*"), and its idempotency key is sha256(source\nnode\ntarget).
func TestHandoffBodies(t *testing.T) {
	secrets := "\"*\": {ipmi_password: star-" + distinctive + "}\napp-1: {ipmi_password: " + distinctive + "}\n"
	for name, tc := range map[string]struct {
		args []string
		want []map[string]any
	}{
		"named nodes, adopted, maps": {
			args: []string{"--to", "new", "--adopt", "--network-map", "physnet1=prov", "--image-map", "img-a=img-b", oldA, oldB, oldA},
			want: []map[string]any{
				{"source": map[string]any{"backend": "old", "node_uuid": oldA}, "target": map[string]any{"backend": "new"},
					"server": map[string]any{"name": "app-1"}, "secrets": map[string]any{"ipmi_password": distinctive},
					"network_map": map[string]any{"physnet1": "prov"}, "image_map": map[string]any{"img-a": "img-b"},
					"idempotency_key": sha("old\n" + oldA + "\nnew")},
				{"source": map[string]any{"backend": "old", "node_uuid": oldB}, "target": map[string]any{"backend": "new"},
					"server": map[string]any{"name": oldB}, "secrets": map[string]any{"ipmi_password": "star-" + distinctive},
					"network_map": map[string]any{"physnet1": "prov"}, "image_map": map[string]any{"img-a": "img-b"},
					"idempotency_key": sha("old\n" + oldB + "\nnew")},
			},
		},
		"--all, the target inferred": {
			args: []string{"--all"},
			want: []map[string]any{
				{"source": map[string]any{"backend": "old", "node_uuid": oldA}, "target": map[string]any{"backend": "new"},
					"secrets": map[string]any{"ipmi_password": distinctive}, "idempotency_key": sha("old\n" + oldA + "\nnew")},
				{"source": map[string]any{"backend": "old", "node_uuid": oldB}, "target": map[string]any{"backend": "new"},
					"secrets": map[string]any{"ipmi_password": "star-" + distinctive}, "idempotency_key": sha("old\n" + oldB + "\nnew")},
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			fake := handoffFake()
			srv := fake.serve(t)
			sec := writeFile(t, "s.yaml", secrets, 0o600)
			args := append([]string{"migrate", "--url", srv.URL, "--from", "old", "--secrets-file", sec, "--poll-interval", "1ms", "--concurrency", "1", "-f", "json"}, tc.args...)
			code, stdout, stderr := run{}.mogan(t, args...)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			var got []map[string]any
			for _, b := range fake.mig.bodies {
				var body map[string]any
				if err := json.Unmarshal(b, &body); err != nil {
					t.Fatal(err)
				}
				got = append(got, body)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("bodies (-want +got):\n%s", diff)
			}
			results := decodeMigResults(t, stdout)
			if len(results) != 2 || results[0].Machine != "app-1" || results[1].Machine != oldB || *results[0].Node == "" {
				t.Errorf("results %+v", results)
			}
			if strings.Contains(stdout+stderr, distinctive) {
				t.Errorf("a secret was printed")
			}
		})
	}
}

// TestHandoffRefusals: a secrets entry that is no node of the source, and
// a node the API refuses.
func TestHandoffRefusals(t *testing.T) {
	fake := handoffFake()
	fake.mig.plan[oldC] = "refuse 409"
	srv := fake.serve(t)
	typo := writeFile(t, "s.yaml", "app-2: {ipmi_password: x}\n", 0o600)
	code, _, stderr := run{}.mogan(t, "migrate", "--url", srv.URL, "--from", "old", "--to", "new", "--secrets-file", typo, oldA)
	if code != ExitUsage || !strings.Contains(stderr, `machine "app-2": no machine of that name among old's nodes (a typo?)`) {
		t.Errorf("exit %d, %s", code, stderr)
	}
	if len(fake.mig.bodies) > 0 {
		t.Errorf("posted %d", len(fake.mig.bodies))
	}
	code, stdout, _ := run{}.mogan(t, "migrate", "--url", srv.URL, "--from", "old", "--to", "new", "-f", "json", oldC)
	if code != ExitFailed {
		t.Errorf("exit %d; want 1", code)
	}
	want := map[string]string{"db-9": "failed: Machine " + oldC + " refused by the fake. (HTTP 409, request req-fake)"}
	if diff := cmp.Diff(want, outcomes(decodeMigResults(t, stdout))); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

// TestExport: --export writes the source's nodes as an inventory that
// reads back as the same machines, in each format; CSV refuses a machine
// it cannot say, and a node that cannot be exported writes nothing.
func TestExport(t *testing.T) {
	want := func(t *testing.T, f *fakeAPI, ids ...string) []driver.Machine {
		var out []driver.Machine
		for _, id := range ids {
			m, err := inventory.ValidateMachine(f.mig.exports[id])
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
		return out
	}
	for name, tc := range map[string]struct {
		args     []string
		wantIDs  []string
		wantCode int
		wantErr  string
	}{
		"yaml, every manageable node": {args: nil, wantIDs: []string{oldA, oldB}},
		"json, named":                 {args: []string{"-f", "json", oldB}, wantIDs: []string{oldB}},
		"csv":                         {args: []string{"-f", "csv", oldA}, wantIDs: []string{oldA}},
		"csv, a bond":                 {args: []string{"-f", "csv", oldA, oldB}, wantCode: ExitFailed, wantErr: "machines[1]: CSV cannot say properties, portgroups, ports[0].pxe_enabled"},
		"an unknown node":             {args: []string{oldA, "nope"}, wantCode: ExitFailed, wantErr: "node nope: Node nope could not be found in backend old. (HTTP 404, request req-fake)"},
		"an export that is wrong":     {args: []string{oldC}, wantCode: ExitFailed, wantErr: `node ` + oldC + `: the export would not read back as an inventory: machine "db-9": ports[0].mac: "zz" is not a MAC address`},
	} {
		t.Run(name, func(t *testing.T) {
			fake := handoffFake()
			srv := fake.serve(t)
			code, stdout, stderr := run{}.mogan(t, append([]string{"migrate", "--url", srv.URL, "--from", "old", "--export"}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("exit %d stderr %q; want %d with %q", code, stderr, tc.wantCode, tc.wantErr)
			}
			if tc.wantCode != ExitOK {
				if stdout != "" {
					t.Errorf("wrote %q", stdout)
				}
				return
			}
			got, err := inventory.Parse("exported", []byte(stdout))
			if err != nil {
				t.Fatalf("the export does not read back: %v\n%s", err, stdout)
			}
			if diff := cmp.Diff(want(t, fake, tc.wantIDs...), got); diff != "" {
				t.Errorf("machines (-exported +read back):\n%s", diff)
			}
			if !strings.Contains(stderr, "secret fields to give in a secrets file") {
				t.Errorf("stderr does not name the secrets: %s", stderr)
			}
		})
	}
}

// TestExportThenMigrate: an exported inventory fed to migrate -i sends
// the machine the source described.
func TestExportThenMigrate(t *testing.T) {
	fake := handoffFake()
	srv := fake.serve(t)
	code, stdout, stderr := run{}.mogan(t, "migrate", "--url", srv.URL, "--from", "old", "--export", oldA)
	if code != ExitOK {
		t.Fatalf("export: exit %d\n%s", code, stderr)
	}
	inv := writeFile(t, "exported.yaml", stdout, 0o644)
	sec := writeFile(t, "s.yaml", "app-1: {ipmi_password: x}\n", 0o600)
	code, _, stderr = run{}.mogan(t, "migrate", "--url", srv.URL, "-i", inv, "--to", "new", "--secrets-file", sec, "--poll-interval", "1ms")
	if code != ExitOK {
		t.Fatalf("migrate: exit %d\n%s", code, stderr)
	}
	var body struct {
		Source struct {
			Machine map[string]any `json:"machine"`
		} `json:"source"`
	}
	if err := json.Unmarshal(fake.mig.bodies[0], &body); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fake.mig.exports[oldA], body.Source.Machine); diff != "" {
		t.Errorf("machine sent (-exported +sent):\n%s", diff)
	}
}

// TestMigrationCommands: list, show, retry and cancel, as tables and
// JSON, and the API's refusals.
func TestMigrationCommands(t *testing.T) {
	fake := migrateFake()
	fake.mig.plan["b"] = "failed"
	fake.mig.plan["c"] = "hold"
	srv := fake.serve(t)
	inv := writeFile(t, "inv.yaml", inventoryOf("a", "b"), 0o644)
	sec := writeFile(t, "s.yaml", secretsYAML, 0o600)
	if code, _, stderr := (run{}).mogan(t, "migrate", "--url", srv.URL, "-i", inv, "--secrets-file", sec, "--poll-interval", "1ms", "--concurrency", "1"); code != ExitFailed {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	// c: started, still running (a second Ctrl-C stopped following it).
	fake.mig.migrations = append(fake.mig.migrations, &fakeMigration{label: "c", end: "hold", view: map[string]any{
		"uuid": "00000000-0000-0000-0000-000000000003", "status": "running", "source": map[string]any{"backend": "old", "node_uuid": oldA},
		"target": map[string]any{"backend": "new"}, "steps": []any{}, "request_id": "req-3"}})
	const a, b, c = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002", "00000000-0000-0000-0000-000000000003"
	// In order: retry and cancel change what the later cases see.
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		want     []string // in stdout, or stderr for a failure
	}{
		{"list", []string{"migration", "list"}, ExitOK, []string{"| " + c + " | running", "old node " + oldA, "| " + b + " | failed  | machine b", "| " + a + " | done"}},
		{"list --status", []string{"migration", "list", "--status", "failed"}, ExitOK, []string{b}},
		{"list --limit", []string{"migration", "list", "--limit", "1", "-f", "json"}, ExitOK, []string{`"uuid": "` + c + `"`}},
		{"list a bad status", []string{"migration", "list", "--status", "broken"}, ExitUsage, []string{"--status must be one of pending, running, done, failed, rolled_back"}},
		{"show", []string{"migration", "show", b}, ExitOK, []string{"| status      | failed", "| STEP   | STATUS | STARTED AT | FINISHED AT | ERROR", "| adopt  | failed |", "Neutron said no"}},
		{"show json", []string{"migration", "show", a, "-f", "json"}, ExitOK, []string{`"status": "done"`, `"steps": [`}},
		{"show unknown", []string{"migration", "show", "x"}, ExitFailed, []string{"Error: Migration could not be found. (HTTP 404, request req-fake)"}},
		{"retry a failed one", []string{"migration", "retry", b}, ExitOK, []string{"| status      | running"}},
		{"retry a done one", []string{"migration", "retry", a}, ExitFailed, []string{"Error: Migration " + a + " is done: only a failed one is retried. (HTTP 409, request req-fake)"}},
		{"cancel a running", []string{"migration", "cancel", c, "-f", "json"}, ExitOK, []string{`"status": "rolled_back"`}},
		{"cancel a done one", []string{"migration", "cancel", a}, ExitFailed, []string{"Error: Migration " + a + " is done: it cannot be cancelled. (HTTP 409, request req-fake)"}},
		{"show without a uuid", []string{"migration", "show"}, ExitUsage, []string{"needs one MIGRATION_UUID"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run{}.mogan(t, append(tc.args, "--url", srv.URL)...)
			if code != tc.wantCode {
				t.Errorf("exit %d; want %d\n%s", code, tc.wantCode, stderr)
			}
			out := stdout
			if tc.wantCode != ExitOK {
				out = stderr
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
