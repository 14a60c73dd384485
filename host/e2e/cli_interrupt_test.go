package e2e

import (
	"bufio"
	"bytes"
	"strings"
	"syscall"
	"testing"
)

// TestCLIInterrupted: Ctrl-C (SIGINT) during `mogan adopt --all` starts
// no more adoptions and waits for those in flight; the table follows,
// the nodes not started are "failed" with "not started", exit 1; the
// rerun carries on with the rest, exit 0. (The test driver takes 2 s per
// adoption, so adoptions are in flight when the signal comes.)
func TestCLIInterrupted(t *testing.T) {
	h, _ := testDriverHost(t, "", `{"count": 10, "manage": "slow", "delay": "2s"}`, "")
	env := []string{"MOGAN_URL=" + h.URL}
	const manageable = 9 // the test driver's node 9 is in maintenance

	cmd := moganCmd(t.Context(), t, env, "adopt", "--all", "--concurrency", "2", "-f", "json")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt at the first node done: the next ones are in flight.
	var log strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "[1/") {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
	}
	r := cliResult{code: exitCode(t, cmd.Wait()), stdout: stdout.String(), stderr: log.String()}
	if r.code != 1 || !strings.Contains(r.stderr, "interrupted: starting no more adoptions") {
		t.Errorf("interrupted run: exit %d; want 1 and the interruption told\n%s", r.code, r.stderr)
	}
	results := adoptResults(t, r)
	adopted, notStarted := 0, 0
	for _, res := range results {
		switch {
		case res.Outcome == "adopted":
			adopted++
		case res.Outcome == "failed" && strings.HasPrefix(deref(res.Reason), "not started"):
			notStarted++
		default:
			t.Errorf("node %s: %s (%s)", res.NodeUUID, res.Outcome, deref(res.Reason))
		}
	}
	// Every adoption that started finished: the host holds exactly the
	// ones reported adopted, and some were never started.
	servers := serversByNode(t, h.URL)
	if len(results) != manageable || adopted < 2 || notStarted == 0 || len(servers) != adopted {
		t.Errorf("%d results: %d adopted, %d not started; the host has %d servers", len(results), adopted, notStarted, len(servers))
	}
	for node, res := range results {
		if res.Outcome == "adopted" && servers[node].UUID != deref(res.ServerUUID) {
			t.Errorf("node %s reported adopted by %s; the host says %+v", node, deref(res.ServerUUID), servers[node])
		}
	}

	// The rerun carries on: the rest adopted, exit 0. (The test driver
	// lists adopted nodes still: those are skipped, held by the servers
	// the first run reported.)
	rerun := runMogan(t, env, "adopt", "--all", "--concurrency", "8", "-f", "json")
	again := adoptResults(t, rerun)
	counts := map[string]int{}
	for node, res := range again {
		counts[res.Outcome]++
		if first := results[node]; first.Outcome == "adopted" && (res.Outcome != "skipped" || deref(res.ServerUUID) != deref(first.ServerUUID)) {
			t.Errorf("rerun: node %s %s by %s; the first run adopted it as %s", node, res.Outcome, deref(res.ServerUUID), deref(first.ServerUUID))
		}
	}
	if rerun.code != 0 || counts["adopted"] != notStarted || counts["skipped"] != adopted {
		t.Errorf("rerun: exit %d, %v; want 0, %d adopted and %d skipped\n%s", rerun.code, counts, notStarted, adopted, rerun.stderr)
	}
	if n := len(serversByNode(t, h.URL)); n != manageable {
		t.Errorf("%d servers after the rerun; want %d", n, manageable)
	}
}
