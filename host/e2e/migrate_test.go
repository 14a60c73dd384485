package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/cloud"
)

// Migrations from an inventory (issue 17) against a real standalone
// Ironic (fake-hardware and redfish, automated cleaning on), Glance and
// Neutron, through the built `mogan` as an operator runs it: every node
// ends active, protected and adopted with the addresses of the Neutron
// ports its migration made, or — refused or rolled back — leaves nothing
// behind; and Ironic's own log shows no node ever went anywhere but
// enroll, verifying, manageable, adopting and active, nor had its power
// touched.

// migTranscript collects what the operator and API callers saw: every
// CLI output and response body, for the secrets search.
type migTranscript struct{ strings.Builder }

// cli records a run of the CLI.
func (tr *migTranscript) cli(what string, r cliResult) {
	fmt.Fprintf(&tr.Builder, "--- mogan %s: exit %d\n%s\n%s\n", what, r.code, r.stdout, r.stderr)
}

// request makes one request to the host and records its answer.
func (tr *migTranscript) request(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Fprintf(&tr.Builder, "--- %s %s -> %d\n", method, url, resp.StatusCode)
	_ = resp.Header.Write(&tr.Builder)
	fmt.Fprintf(&tr.Builder, "\n%s\n", b)
	return resp.StatusCode, string(b)
}

// readEverything reads, through tr, every migration, server and action
// the host has: the bodies the secrets search covers.
func (tr *migTranscript) readEverything(t *testing.T, hostURL string) {
	t.Helper()
	tr.request(t, http.MethodGet, hostURL+"/v1/migrations", "")
	for _, m := range migList(t, hostURL) {
		tr.request(t, http.MethodGet, hostURL+"/v1/migrations/"+m.UUID, "")
	}
	tr.request(t, http.MethodGet, hostURL+"/v1/servers/detail", "")
	for _, s := range migServers(t, hostURL) {
		tr.request(t, http.MethodGet, hostURL+"/v1/servers/"+s.UUID, "")
		tr.request(t, http.MethodGet, hostURL+"/v1/servers/"+s.UUID+"/actions", "")
	}
	tr.request(t, http.MethodGet, hostURL+"/v1/manageable_servers", "")
}

// TestMigrateQuick is the small run of `make test-quick`: three machines
// and one whose BMC does not answer (redfish at a closed port), through
// `mogan migrate --adopt` — a dry run that changes nothing, then the run:
// three migrated (active, protected, adopted with their Neutron ports'
// addresses), one failed and rolled back leaving nothing; Ironic's log
// shows only enroll, verifying, manageable, adopting and active, and no
// power action; and the machines' password is nowhere but in Ironic: not
// in the store, the host's (and plugin's) debug log with its log
// notifications, the CLI's output or any response body.
func TestMigrateQuick(t *testing.T) {
	c, image := migStartCloud(t)
	before := migMarks(t, c)
	dbPath := filepath.Join(t.TempDir(), "mogan.sqlite")
	h := migStartHost(t, migHostConfig(t, c, "sqlite://"+dbPath, c.Ironic.URL, c.Neutron.URL, "[oslo_messaging_notifications]\ndriver = log\n"))
	env := []string{"MOGAN_URL=" + h.URL}
	ms := migMachines("quick", 0x31, 3, 2, image)
	bmc := redfishAt(migMachines("quick-bmc", 0x34, 1, 1, image)[0], freePort(t))
	inv, secrets := migWriteInventory(t, "inventory.yaml", migYAML(append(slices.Clone(ms), bmc), "provisioning"))
	var seen migTranscript
	args := []string{"migrate", "-i", inv, "--to", migBackend, "--adopt", "--secrets-file", secrets}

	// The dry run: every machine passes what the API can check (a BMC is
	// proven only by Ironic's manage), nothing is created.
	dry := runMogan(t, env, append(args, "--dry-run", "-f", "json")...)
	seen.cli("migrate --dry-run", dry)
	if got := migOutcomes(migResults(t, dry)); dry.code != 0 || got["would migrate"] != 4 {
		t.Errorf("dry run: exit %d, %v; want 0 and 4 would migrate\n%s", dry.code, got, dry.stderr)
	}
	if left := migLeftovers(t, c, before, nil); left != "" || len(migList(t, h.URL)) != 0 {
		t.Fatalf("the dry run left:\n%s\nmigrations: %v", left, migList(t, h.URL))
	}

	// The run, as an operator reads it: a table, one failure, exit 1.
	run := runMogan(t, env, args...)
	seen.cli("migrate", run)
	t.Logf("mogan migrate (3 machines and one whose BMC does not answer): exit %d\n%s%s", run.code, run.stdout, run.stderr)
	if run.code != 1 || strings.Count(run.stdout, "| migrated") != 3 || strings.Count(run.stdout, "| failed") != 1 ||
		!strings.Contains(run.stderr, "4 machines: 3 migrated, 1 failed") {
		t.Errorf("migrate: exit %d; want 1, three migrated and one failed\n%s%s", run.code, run.stdout, run.stderr)
	}
	all := migWait(t, h.URL, 2*time.Minute)
	done := migDone(all)
	nodes := migIronicNodes(t, c.Ironic.URL)
	ports := migIronicPorts(t, c.Ironic.URL)
	neutron := migOurPorts(t, c)
	servers := migServers(t, h.URL)
	byName := map[string]migView{}
	var touchedNodes []string
	for _, m := range all {
		byName[m.machineName()] = m
		touchedNodes = append(touchedNodes, m.NodeUUID)
	}
	for _, mc := range ms {
		m := byName[mc.Name]
		srv, ok := servers[m.NodeUUID]
		if !ok {
			t.Errorf("machine %s (%s): no server", mc.Name, m)
			continue
		}
		if wrong := migCheckMigrated(mc, m, nodes[m.NodeUUID], ports[m.NodeUUID], neutron, &srv, image); wrong != "" {
			t.Errorf("%s\nhost log:\n%s", wrong, migLogLines(h.logs.String(), 20, m.UUID))
		}
	}
	failed := byName[bmc.Name]
	if failed.Status != "rolled_back" || !strings.Contains(deref(failed.Error), "manage") || !strings.Contains(run.stdout, "rolled back") {
		t.Errorf("the machine whose BMC does not answer: %s; want rolled back with Ironic's manage error, and the CLI saying so", failed)
	}
	if left := migLeftovers(t, c, before, done); left != "" {
		t.Errorf("left behind:\n%s", left)
	}
	states := migCheckUntouched(t, c.Ironic, touchedNodes)
	t.Logf("provision states seen (Ironic's log): %v", states)
	if len(all) != 4 || len(done) != 3 || len(servers) != 3 {
		t.Errorf("%d migrations (%d done), %d servers; want 4, 3 and 3", len(all), len(done), len(servers))
	}

	// The password reached Ironic (the migrated nodes' driver_info, as
	// Ironic masks it to readers) and nothing else.
	seen.readEverything(t, h.URL)
	var hits []string
	hits = append(hits, secretHits("the store", dumpSQLite(t, dbPath))...)
	hits = append(hits, secretHits("the host's log", h.logs.String())...)
	hits = append(hits, secretHits("the CLI and the API", seen.String())...)
	if len(hits) > 0 {
		t.Errorf("the password leaked %d times:\n%s", len(hits), strings.Join(hits, "\n"))
	}
	for _, want := range []string{"migration.end", "migration.error", `"ipmi_password"`} {
		if !strings.Contains(h.logs.String()+seen.String(), want) {
			t.Errorf("nothing searched holds %q: the search missed what it must cover", want)
		}
	}
}

// TestMigrateFiftyWithAdopt is the success case: 50 machines from a YAML inventory through `mogan migrate --adopt
// --concurrency 8` (Ironic on SQLite does not retry "database is locked"):
// every node active in Ironic with its ports and their VIFs, protected,
// automated_clean off, adopted as a server whose addresses are the
// Neutron ports its migration made with the described MACs and fixed IPs,
// bound baremetal; Ironic's log shows nothing else done to any of them.
// A rerun skips all 50 and sends nothing new.
func TestMigrateFiftyWithAdopt(t *testing.T) {
	const n = 50
	c, image := migStartCloud(t)
	h := migStartHost(t, migHostConfig(t, c, "", c.Ironic.URL, c.Neutron.URL, ""))
	env := []string{"MOGAN_URL=" + h.URL}
	ms := migMachines("fifty", 0x40, n, 1, image)
	inv, secrets := migWriteInventory(t, "inventory.yaml", migYAML(ms, "provisioning"))
	args := []string{"migrate", "-i", inv, "--to", migBackend, "--adopt", "--secrets-file", secrets, "--concurrency", "8", "-f", "json"}
	run := migRunMogan(t, 8*time.Minute, env, args...)
	res := migResults(t, run)
	if got := migOutcomes(res); run.code != 0 || got["migrated"] != n {
		t.Fatalf("migrate: exit %d, %v; want 0 and %d migrated\n%s\nhost log:\n%s", run.code, got, n, run.stderr,
			migLogLines(h.logs.String(), 40, "level=ERROR", "level=WARN"))
	}
	t.Logf("mogan migrate --adopt --concurrency 8, %d machines: %.1f s", n, run.elapsed.Seconds())
	checkFleet(t, c, h, ms, image, res)

	again := runMogan(t, env, args...)
	if got := migOutcomes(migResults(t, again)); again.code != 0 || got["skipped"] != n {
		t.Errorf("rerun: exit %d, %v; want 0 and %d skipped\n%s", again.code, got, n, again.stderr)
	}
	if got := len(migList(t, h.URL)); got != n {
		t.Errorf("%d migrations after the rerun; want %d", got, n)
	}
}

// checkFleet checks that every machine of ms was migrated and adopted
// exactly once, as the CLI's results say, and that Ironic's log shows
// nothing else done to their nodes.
func checkFleet(t *testing.T, c *cloud.Cloud, h *host, ms []migMachine, image string, res map[string]migResult) {
	t.Helper()
	all := migWait(t, h.URL, 2*time.Minute)
	nodes := migIronicNodes(t, c.Ironic.URL)
	ports := migIronicPorts(t, c.Ironic.URL)
	neutron := migOurPorts(t, c)
	servers := migServers(t, h.URL)
	byName, byUUID := map[string]migView{}, map[string]migView{}
	for _, m := range all {
		byUUID[m.UUID] = m
		if prev, dup := byName[m.machineName()]; dup {
			t.Errorf("machine %s migrated twice: %s and %s", m.machineName(), prev.UUID, m.UUID)
		}
		byName[m.machineName()] = m
	}
	nodesByName := map[string]int{}
	for _, n := range nodes {
		nodesByName[deref(n.Name)]++
	}
	ours := 0
	for _, p := range neutron {
		if _, ok := byUUID[p.migration()]; ok {
			ours++
		}
	}
	var migrated []string
	for _, mc := range ms {
		m, ok := byName[mc.Name]
		if !ok {
			t.Errorf("machine %s: no migration", mc.Name)
			continue
		}
		if r := res[mc.Name]; r.Outcome != "skipped" && (deref(r.MigrationUUID) != m.UUID || deref(r.NodeUUID) != m.NodeUUID ||
			deref(r.ServerUUID) != deref(m.ServerUUID)) {
			t.Errorf("machine %s: the CLI says migration %s, node %s, server %s; the API %s", mc.Name, deref(r.MigrationUUID),
				deref(r.NodeUUID), deref(r.ServerUUID), m)
		}
		if nodesByName[mc.Name] != 1 {
			t.Errorf("machine %s: %d nodes of its name in Ironic; want 1", mc.Name, nodesByName[mc.Name])
		}
		srv, ok := servers[m.NodeUUID]
		if !ok {
			t.Errorf("machine %s (%s): no server", mc.Name, m)
			continue
		}
		if wrong := migCheckMigrated(mc, m, nodes[m.NodeUUID], ports[m.NodeUUID], neutron, &srv, image); wrong != "" {
			t.Errorf("%s\nhost log:\n%s", wrong, migLogLines(h.logs.String(), 20, m.UUID))
		}
		migrated = append(migrated, m.NodeUUID)
	}
	if len(all) != len(ms) || len(servers) != len(ms) || ours != countNICs(ms) {
		t.Errorf("%d migrations, %d servers, %d Neutron ports of theirs; want %d, %d and %d", len(all), len(servers), ours,
			len(ms), len(ms), countNICs(ms))
	}
	states := migCheckUntouched(t, c.Ironic, migrated)
	t.Logf("provision states seen in Ironic's log, over %d nodes: %v; power actions: none", len(migrated), states)
}

// migRunMogan is runMogan within limit: a fleet's run takes minutes on a
// loaded machine.
func migRunMogan(t *testing.T, limit time.Duration, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	cmd := moganCmd(ctx, t, env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("mogan %s did not end within %s:\n%s", strings.Join(args, " "), limit, stderr.String())
	}
	return cliResult{code: exitCode(t, err), stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
}

// countNICs counts the machines' NICs on a network.
func countNICs(ms []migMachine) int {
	n := 0
	for _, m := range ms {
		if !m.NoNetwork {
			n += len(m.MACs)
		}
	}
	return n
}

// migTail is the last n lines of s.
func migTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
