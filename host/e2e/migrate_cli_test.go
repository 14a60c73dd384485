package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestMigrateCLIInterruptedThenRerun is the fleet case of `mogan
// migrate`: 200 machines, --adopt --concurrency 8, Ctrl-C (SIGINT) once
// half of them are migrated — no more migrations start, those running
// end — then the same command again: every machine migrated exactly once
// (one node of its name in Ironic, one server each), the first run's
// skipped. The machines' NICs name no network: this case is the CLI's
// and the host's, and Neutron (a single SQLite-backed process here, about
// a second a write on a loaded machine) is TestMigrateFiftyWithAdopt's.
func TestMigrateCLIInterruptedThenRerun(t *testing.T) {
	const n = 200
	c, image := migStartCloud(t)
	before := migMarks(t, c)
	h := migStartHost(t, migHostConfig(t, c, "", c.Ironic.URL, c.Neutron.URL, ""))
	env := []string{"MOGAN_URL=" + h.URL}
	ms := migMachines("fleet", 0x90, n, 1, image)
	for i := range ms {
		ms[i].NoNetwork = true
	}
	inv, secrets := migWriteInventory(t, "inventory.yaml", migYAML(ms, ""))
	args := []string{"migrate", "-i", inv, "--to", migBackend, "--adopt", "--secrets-file", secrets, "--concurrency", "8", "-f", "json"}

	ctx := t.Context()
	cmd := moganCmd(ctx, t, env, args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	half := make(chan struct{})
	var log strings.Builder
	var scanned sync.WaitGroup
	scanned.Go(func() {
		migrated := 0
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), ": migrated as node ") {
				if migrated++; migrated == n/2 {
					close(half)
				}
			}
		}
	})
	select {
	case <-half:
	case <-time.After(8 * time.Minute):
		_ = cmd.Process.Kill()
		scanned.Wait()
		t.Fatalf("%d machines were not migrated in 8 minutes:\n%s", n/2, migTail(log.String(), 20))
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	interruptedAt := time.Since(start)
	scanned.Wait()
	first := cliResult{code: exitCode(t, cmd.Wait()), stdout: stdout.String(), stderr: log.String(), elapsed: time.Since(start)}
	res := migResults(t, first)
	counts := migOutcomes(res)
	if first.code != 1 || len(res) != n || counts["migrated"] < n/2 || counts["migrated"]+counts["failed"] != n ||
		!strings.Contains(first.stderr, "interrupted: starting no more migrations") {
		t.Errorf("the interrupted run: exit %d, %d results %v; want 1, %d results, at least %d migrated and the rest not started\n%s",
			first.code, len(res), counts, n, n/2, migTail(first.stderr, 20))
	}
	for name, r := range res {
		if r.Outcome == "failed" && !strings.HasPrefix(deref(r.Reason), "not started") {
			t.Errorf("machine %s: failed, %s; want migrated or not started", name, deref(r.Reason))
		}
	}
	// Every migration the interrupted run started has ended: as many done
	// as it reported migrated.
	if got := len(migDone(migWait(t, h.URL, 2*time.Minute))); got != counts["migrated"] {
		t.Errorf("%d migrations done after the interrupted run; it reported %d migrated", got, counts["migrated"])
	}
	t.Logf("interrupted at %.1f s (%d migrated), ended at %.1f s: %v", interruptedAt.Seconds(), n/2, first.elapsed.Seconds(), counts)

	rerun := migRunMogan(t, 8*time.Minute, env, args...)
	again := migResults(t, rerun)
	got := migOutcomes(again)
	if rerun.code != 0 || got["skipped"] != counts["migrated"] || got["migrated"] != n-counts["migrated"] {
		t.Errorf("rerun: exit %d, %v; want 0, %d skipped and %d migrated\n%s", rerun.code, got, counts["migrated"], n-counts["migrated"],
			migTail(rerun.stderr, 20))
	}
	for name, r := range again {
		if f := res[name]; f.Outcome == "migrated" && (deref(r.MigrationUUID) != deref(f.MigrationUUID) || deref(r.ServerUUID) != deref(f.ServerUUID)) {
			t.Errorf("machine %s: the rerun says migration %s, server %s; the first run migrated it as %s, %s", name,
				deref(r.MigrationUUID), deref(r.ServerUUID), deref(f.MigrationUUID), deref(f.ServerUUID))
		}
	}
	t.Logf("rerun: %.1f s, %v", rerun.elapsed.Seconds(), got)
	checkFleet(t, c, h, ms, image, again)
	if left := migLeftovers(t, c, before, migDone(migList(t, h.URL))); left != "" {
		t.Errorf("left behind:\n%s", left)
	}
}

// TestMigrateCSVAndYAMLSamePlan: one inventory written as YAML and as
// CSV gives the same plan (`mogan migrate --dry-run -f json`), but for
// the node uuid each dry run picks anew.
func TestMigrateCSVAndYAMLSamePlan(t *testing.T) {
	c, image := migStartCloud(t)
	h := migStartHost(t, migHostConfig(t, c, "", c.Ironic.URL, c.Neutron.URL, ""))
	env := []string{"MOGAN_URL=" + h.URL}
	ms := migMachines("forms", 0xa0, 4, 2, image)
	ms[1].PowerState = "power on"
	ms[2].Image = ""
	plans := map[string]map[string]any{}
	for _, form := range []struct{ file, text string }{
		{"inventory.yaml", migYAML(ms, "provisioning")},
		{"inventory.csv", migCSV(ms, "provisioning")},
	} {
		inv, secrets := migWriteInventory(t, form.file, form.text)
		r := runMogan(t, env, "migrate", "-i", inv, "--to", migBackend, "--adopt", "--secrets-file", secrets, "--dry-run", "-f", "json")
		res := migResults(t, r)
		if got := migOutcomes(res); r.code != 0 || got["would migrate"] != len(ms) {
			t.Fatalf("%s: dry run: exit %d, %v\n%s", form.file, r.code, got, r.stderr)
		}
		for _, m := range ms {
			plan := res[m.Name].Plan
			if plan == nil || plan["node_uuid"] == "" {
				t.Fatalf("%s: machine %s: no plan with a node uuid: %v", form.file, m.Name, plan)
			}
			delete(plan, "node_uuid")
			key := m.Name
			if prev, ok := plans[key]; ok {
				if diff := cmp.Diff(prev, plan); diff != "" {
					t.Errorf("machine %s: the CSV form's plan differs from the YAML form's (-yaml +csv):\n%s", m.Name, diff)
				}
				continue
			}
			plans[key] = plan
		}
	}
	b, _ := json.MarshalIndent(plans[ms[0].Name], "", "  ")
	t.Logf("machine %s's plan (both forms, node_uuid aside):\n%s", ms[0].Name, b)
	if n := len(migList(t, h.URL)); n != 0 {
		t.Errorf("the dry runs made %d migrations", n)
	}
}
