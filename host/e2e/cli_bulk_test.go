package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// TestCLIBulkAdoption is the fleet case of issue 11 against a real
// Ironic, with --concurrency 16:
//  1. `mogan adopt --all` over 40 nodes on a pseudo-terminal: a progress
//     bar, then the table, every node "adopted";
//  2. 200 more nodes, output piped (one line per node): the host is
//     SIGKILLed halfway and restarted on the same database, the command
//     rerun → every node adopted exactly once, none lost.
//
// (200 nodes on the terminal took 25-103 s on this 2-core machine, by load;
// the bar is shown as well with 40.)
func TestCLIBulkAdoption(t *testing.T) {
	const n, onTerminal = 200, 40
	ctx := t.Context()
	ironicSrv, err := ironic.Start(ctx, ironic.Options{Dir: t.TempDir(), DieWithParent: true, NoPowerSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ironicSrv.Stop() })
	first, err := ironicSrv.Fixture().BulkLoad(ctx, onTerminal, ironic.BulkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// No reconciler while adopting: its power sync would compete with the
	// adoptions for the one Ironic process. The restarted host runs it at
	// start and every 15 s: a PATCH Ironic still applied after the kill is
	// released through its tombstone, as in TestKill50ConcurrentAdoptions.
	db := "sqlite://" + t.TempDir() + "/mogan.sqlite"
	h := startHost(t, ironicHostConfig(t, db, ironicSrv.URL, "[manage]\nreconcile_interval = 0\n"))
	env := []string{"MOGAN_URL=" + h.URL}

	t.Run("progress bar on a terminal", func(t *testing.T) {
		r, term := runMoganOnTerminal(t, env, "adopt", "--all", "--concurrency", "16")
		if r.code != 0 {
			t.Fatalf("exit %d\nterminal: %s", r.code, term)
		}
		if got := strings.Count(r.stdout, "| adopted"); got != onTerminal {
			t.Errorf("%d nodes adopted in the table; want %d", got, onTerminal)
		}
		// The bar redraws one line in place and ends full; no per-node
		// lines on a terminal.
		if !strings.Contains(term, fmt.Sprintf("%d/%d", onTerminal, onTerminal)) || !strings.Contains(term, "\r") ||
			!strings.Contains(term, "█") || strings.Contains(term, "] node ") {
			t.Errorf("terminal output is not a progress bar:\n%q", lastBytes(term, 600))
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		t.Logf("mogan adopt --all --concurrency 16 over %d nodes: %.1f s wall\n%s\n...\n%s\n%s",
			onTerminal, r.elapsed.Seconds(), strings.Join(lines[:5], "\n"), strings.Join(lines[len(lines)-2:], "\n"), lastTermLine(term))
		checkHeld(t, h.URL, ironicSrv.URL, first, nil)
	})

	t.Run("host killed halfway, rerun", func(t *testing.T) {
		second, err := ironicSrv.Fixture().BulkLoad(ctx, n, ironic.BulkOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cmd := moganCmd(ctx, t, env, "adopt", "--all", "--concurrency", "16", "-f", "json")
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
		// Count the plain progress lines; kill the host at the n/2-th
		// adoption.
		half := make(chan struct{})
		var log strings.Builder
		var scanned sync.WaitGroup
		scanned.Add(1)
		go func() {
			defer scanned.Done()
			adopted := 0
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				log.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), ": adopted as server ") {
					if adopted++; adopted == n/2 {
						close(half)
					}
				}
			}
		}()
		select {
		case <-half:
		case <-time.After(3 * time.Minute):
			t.Fatal("100 adoptions did not happen in 3 minutes")
		}
		h.kill(t)
		killedAt := time.Since(start)
		scanned.Wait()
		interrupted := cliResult{code: exitCode(t, cmd.Wait()), stdout: stdout.String(), stderr: log.String(), elapsed: time.Since(start)}
		results := adoptResults(t, interrupted)
		counts := map[string]int{}
		for _, r := range results {
			counts[r.Outcome]++
		}
		if len(results) != n || interrupted.code != 1 || counts["failed"] == 0 {
			t.Errorf("the interrupted run: exit %d, %d results %v; want 1 and %d results with failures", interrupted.code, len(results), counts, n)
		}

		h2 := startHost(t, ironicHostConfig(t, db, ironicSrv.URL, "[manage]\nreconcile_interval = 15\n"))
		// The restart's repair pass (and the reconciler, for a PATCH that
		// landed after it) leave each node adopted or untouched.
		waitRepaired(t, h2.URL)
		var bad []string
		var settled int
		for end := time.Now().Add(90 * time.Second); ; {
			bad, settled = unsettled(t, h2.URL, ironicSrv.URL, second)
			if len(bad) == 0 || time.Now().After(end) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if len(bad) > 0 {
			t.Fatalf("after the restart:\n%s", strings.Join(bad, "\n"))
		}

		rerun := runMogan(t, []string{"MOGAN_URL=" + h2.URL}, "adopt", "--all", "--concurrency", "16", "-f", "json")
		again := adoptResults(t, rerun)
		for _, r := range again {
			if r.Outcome != "adopted" {
				t.Errorf("rerun: node %s %s (%s)", r.NodeUUID, r.Outcome, deref(r.Reason))
			}
		}
		if rerun.code != 0 || settled+len(again) != n {
			t.Errorf("rerun: exit %d, adopted %d after %d settled by the restart; want 0 and %d in all\n%s", rerun.code, len(again), settled, n, rerun.stderr)
		}
		// Every node the interrupted run called adopted is still held by
		// that server: nothing reported adopted was rolled back.
		reported := map[string]string{}
		for _, r := range results {
			if r.Outcome == "adopted" {
				reported[r.NodeUUID] = deref(r.ServerUUID)
			}
		}
		checkHeld(t, h2.URL, ironicSrv.URL, second, reported)
		checkHeld(t, h2.URL, ironicSrv.URL, first, nil)
		t.Logf("interrupted run: %d nodes, %v; host SIGKILLed at %.1f s, the run ended at %.1f s (exit %d)\n"+
			"after the restart: %d adopted by the repair pass, 0 broken\n"+
			"rerun: %d adopted in %.1f s (exit %d); in all %d adopted, each by one server, 0 lost",
			len(results), counts, killedAt.Seconds(), interrupted.elapsed.Seconds(), interrupted.code,
			settled, len(again), rerun.elapsed.Seconds(), rerun.code, n)
	})
}

// unsettled lists the nodes neither adopted (an active server whose uuid
// Ironic records) nor untouched (no server, no instance_uuid), as broken
// does, with one listing of each side.
func unsettled(t *testing.T, hostURL, ironicURL string, nodes []ironic.Node) (bad []string, adopted int) {
	t.Helper()
	holders, instance := heldState(t, hostURL, ironicURL)
	for _, n := range nodes {
		hs, inst := holders[n.UUID], instance[n.UUID]
		switch {
		case len(hs) == 1 && hs[0].Status == "active" && inst == hs[0].UUID:
			adopted++
		case len(hs) == 0 && inst == "":
		default:
			bad = append(bad, fmt.Sprintf("node %s: servers %+v, Ironic instance_uuid %q", n.UUID, hs, inst))
		}
	}
	return bad, adopted
}

// heldState reads every server by node, and every Ironic node's
// instance_uuid.
func heldState(t *testing.T, hostURL, ironicURL string) (map[string][]serverRow, map[string]string) {
	t.Helper()
	code, body := status(t, hostURL+"/v1/servers/detail?all_tenants=true")
	if code != http.StatusOK {
		t.Fatalf("servers: %d %s", code, body)
	}
	var list struct {
		Servers []serverRow `json:"servers"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	holders := map[string][]serverRow{}
	for _, s := range list.Servers {
		holders[s.NodeUUID] = append(holders[s.NodeUUID], s)
	}
	var ironicNodes struct {
		Nodes []struct {
			UUID         string  `json:"uuid"`
			InstanceUUID *string `json:"instance_uuid"`
		} `json:"nodes"`
	}
	ironicGet(t, ironicURL, "/v1/nodes?fields=uuid,instance_uuid&limit=1000", &ironicNodes)
	instance := map[string]string{}
	for _, n := range ironicNodes.Nodes {
		instance[n.UUID] = deref(n.InstanceUUID)
	}
	return holders, instance
}

// checkHeld fails unless every node is held by exactly one active server
// whose uuid Ironic records, and, for the nodes in want, by that server.
func checkHeld(t *testing.T, hostURL, ironicURL string, nodes []ironic.Node, want map[string]string) {
	t.Helper()
	holders, instance := heldState(t, hostURL, ironicURL)
	bad := 0
	for _, n := range nodes {
		hs := holders[n.UUID]
		switch {
		case len(hs) != 1:
			t.Errorf("node %s held by %d servers: %+v", n.UUID, len(hs), hs)
		case hs[0].Status != "active" || instance[n.UUID] != hs[0].UUID:
			t.Errorf("node %s: server %+v, Ironic instance_uuid %q", n.UUID, hs[0], instance[n.UUID])
		case want[n.UUID] != "" && want[n.UUID] != hs[0].UUID:
			t.Errorf("node %s: the CLI reported server %s, held by %s", n.UUID, want[n.UUID], hs[0].UUID)
		default:
			continue
		}
		if bad++; bad > 10 {
			t.Fatal("more than 10 nodes wrong")
		}
	}
}

// runMoganOnTerminal runs mogan with stderr on a pseudo-terminal (stdout
// piped) and returns what the terminal showed.
func runMoganOnTerminal(t *testing.T, env []string, args ...string) (cliResult, string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	cmd := moganCmd(t.Context(), t, env, args...)
	var stdout, term bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, tty
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(&term, ptmx) // ends with EIO once the child and tty are closed
	}()
	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)
	_ = tty.Close()
	<-copied
	return cliResult{code: exitCode(t, err), stdout: stdout.String(), elapsed: elapsed}, term.String()
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// lastTermLine is the terminal's last non-empty line (after the bar's last
// carriage return).
func lastTermLine(term string) string {
	lines := strings.FieldsFunc(term, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := len(lines) - 1; i >= 0; i-- {
		if s := strings.TrimSpace(lines[i]); s != "" {
			return s
		}
	}
	return ""
}

// waitRepaired waits for the restarted host's repair pass: until then it
// answers the API with 503.
func waitRepaired(t *testing.T, hostURL string) {
	t.Helper()
	for end := time.Now().Add(2 * time.Minute); ; {
		code, body := status(t, hostURL+"/v1/servers?limit=1")
		if code == http.StatusOK {
			return
		}
		if code != http.StatusServiceUnavailable || time.Now().After(end) {
			t.Fatalf("servers after the restart: %d %s", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
