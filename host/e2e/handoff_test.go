package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/holdproxy"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// TestHandoffQuick (make test-quick) hands three nodes over from A to B
// with `mogan migrate --from a --to b N1 N2 N3 --adopt`, the built
// binary. One of them meets a MAC that B gets on another node while A
// holds it, after the migration's checks (B's port create refuses it):
// two nodes are adopted and protected in B and gone from A; the third is
// rolled back — in A exactly as it was (maintenance off, every field of
// the node, its ports and portgroups as before), nothing of it in B, no
// Neutron port left — and the CLI says why, naming the MAC. Neither
// Ironic's log shows a power action; B's shows only an enrollment's
// states, A's none; each adopted node was active in B before A deleted
// it.
func TestHandoffQuick(t *testing.T) {
	e := startHandoffEnv(t, handoffEnvOptions{glance: true})
	nodes := e.sourceNodes(t, 3)
	moved, refused := nodes[:2], nodes[2]
	conflictMAC := refused.Ports[1].Address
	before, marks := map[string]map[string]any{}, map[string]logMark{}
	for _, n := range nodes {
		before[n.UUID], marks[n.UUID] = nodeRecord(t, e.A.URL, n.UUID), markLog(t, e.A, n.UUID)
	}
	targetBefore := e.targetInventory(t)
	proxyA, err := holdproxy.Start(e.A.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxyA.Close)
	rule := proxyA.Hold(http.MethodPut, `^/v1/nodes/`+refused.UUID+`/maintenance$`, holdproxy.AfterForward)
	t.Cleanup(rule.Release)
	h := startHandoffHost(t, e.hostConfig(t, "", handoffURLs{a: proxyA.URL}, ""))

	args := []string{"migrate", "--from", "a", "--to", "b", "--adopt", "-f", "json"}
	for _, n := range nodes {
		args = append(args, n.UUID)
	}
	ran := make(chan cliResult, 1)
	go func() {
		ran <- runMoganWithin(t, 5*time.Minute, []string{"MOGAN_URL=" + h.URL}, append(args, e.cliMaps(nodes)...)...)
	}()
	select {
	case <-rule.Reached:
	case r := <-ran:
		t.Fatalf("mogan migrate ended (exit %d) before the third node was held:\n%s%s", r.code, r.stdout, r.stderr)
	}
	targetBefore.addPort(e.portInB(t, conflictMAC), conflictMAC)
	rule.Release()
	r := <-ran
	if r.code != 1 {
		t.Errorf("mogan migrate: exit %d, want 1 (one machine failed)\nstderr: %s", r.code, r.stderr)
	}
	rows := migrateRows(t, r)
	for _, n := range moved {
		row := rows[n.Name]
		if row.Outcome != "migrated" || deref(row.NodeUUID) != n.UUID {
			t.Errorf("node %s: %+v (reason %q), want migrated", n.Name, row, deref(row.Reason))
			continue
		}
		srv, wrong := e.adoptedInB(t, h.URL, n.UUID)
		if wrong != "" {
			t.Errorf("node %s: %s", n.UUID, wrong)
		}
		if deref(row.ServerUUID) != srv {
			t.Errorf("node %s: the CLI says server %q, the host has %q", n.UUID, deref(row.ServerUUID), srv)
		}
		checkHandoffLogs(t, e, n.UUID, marks[n.UUID], true)
	}
	row := rows[refused.Name]
	if row.Outcome != "failed" || !strings.Contains(strings.ToLower(deref(row.Reason)), conflictMAC) || row.MigrationUUID == nil {
		t.Fatalf("node %s: %+v (reason %q), want failed naming MAC %s", refused.Name, row, deref(row.Reason), conflictMAC)
	}
	if m := getMigration(t, h.URL, *row.MigrationUUID); m.Status != "rolled_back" {
		t.Errorf("the refused node's migration is %s, want rolled_back: %s", m.Status, m.stepsString())
	}
	if wrong := e.backInA(t, refused.UUID, before[refused.UUID], targetBefore); wrong != "" {
		t.Error(wrong)
	}
	checkHandoffLogs(t, e, refused.UUID, marks[refused.UUID], false)
}

// checkHandoffLogs checks both Ironics' logs for one node: A's shows no
// provision state and no power action since m; B's only an enrollment's
// states, ending active when adopted, and no power action; and an adopted
// node was active in B before A deleted it (so it was never in neither).
func checkHandoffLogs(t *testing.T, e *handoffEnv, node string, m logMark, adopted bool) {
	t.Helper()
	if wrong := e.sourceLogWrong(t, node, m); wrong != "" {
		t.Error(wrong)
	}
	if wrong := e.targetLogWrong(t, node, adopted); wrong != "" {
		t.Error(wrong)
	}
	if !adopted {
		return
	}
	if wrong := handoffOrderWrong(t, e, node); wrong != "" {
		t.Error(wrong)
	}
}

// handoffOrderWrong reads from the two logs when the node became active in
// B and when A deleted it: the one before the other, or what is wrong.
func handoffOrderWrong(t testing.TB, e *handoffEnv, node string) string {
	t.Helper()
	inB, err := e.B.Events(node)
	if err != nil {
		t.Fatal(err)
	}
	inA, err := e.A.Events(node)
	if err != nil {
		t.Fatal(err)
	}
	var active, deleted time.Time
	for _, ev := range inB {
		if ev.State == "active" {
			active = ev.At
		}
	}
	for _, ev := range inA {
		if ev.Deleted {
			deleted = ev.At
		}
	}
	switch {
	case active.IsZero() || deleted.IsZero():
		return fmt.Sprintf("node %s: B's log has it active at %v, A's deleted at %v: want both", node, active, deleted)
	case deleted.Before(active):
		return fmt.Sprintf("node %s: A deleted it at %s, before it was active in B at %s", node, deleted.Format(time.StampMilli), active.Format(time.StampMilli))
	}
	return ""
}

// TestHandoff is the handoff between two real clouds, in four parts on
// one pair of them (each starts in tens of seconds): the full move of 50
// nodes watched all along (handoffFullMove), the rollbacks and the
// forward-only commit (handoffRollbacks), the SIGKILL at every request of
// the handoff, with a restart and with two replicas (handoffKillMatrix),
// and the export fed to an inventory migration (handoffExportThenInventory).
// Each uses nodes of its own and a host of its own, one after the other.
func TestHandoff(t *testing.T) {
	e := startHandoffEnv(t, handoffEnvOptions{glance: true, redfish: true})
	// The bulk loader's MACs follow Ironic's row ids, which a deleted
	// (handed over) node's row gives back: both parts' nodes are loaded
	// before any leaves A.
	bulk := e.bulkSourceNodes(t, fullMoveNodes+2*len(handoffKillPoints)*2)
	t.Run("full move", func(t *testing.T) {
		// --all hands over every manageable node of A: the kill matrix's,
		// loaded already, wait in maintenance meanwhile (not manageable).
		spare := bulk[fullMoveNodes:]
		maintain(t, e.A.URL, spare, true)
		defer maintain(t, e.A.URL, spare, false)
		handoffFullMove(t, e, bulk[:fullMoveNodes])
	})
	t.Run("rollbacks", func(t *testing.T) { handoffRollbacks(t, e) })
	t.Run("kill matrix", func(t *testing.T) { handoffKillMatrix(t, e, bulk[fullMoveNodes:]) })
	t.Run("export then inventory", func(t *testing.T) { handoffExportThenInventory(t, e) })
}

// maintain puts nodes in maintenance in the Ironic at base, or takes them
// out of it.
func maintain(t *testing.T, base string, nodes []ironic.Node, on bool) {
	t.Helper()
	for _, n := range nodes {
		method, body := http.MethodDelete, any(nil)
		if on {
			method, body = http.MethodPut, map[string]string{"reason": "kept out of the full move"}
		}
		if code := ironicDo(t, method, base, "/v1/nodes/"+n.UUID+"/maintenance", body, nil); code != http.StatusAccepted {
			t.Fatalf("%s maintenance of node %s: HTTP %d", method, n.UUID, code)
		}
	}
}

// fullMoveNodes is how many nodes the full move hands over.
const fullMoveNodes = 50

// handoffFullMove moves 50 nodes, active in A, to B with `mogan
// migrate --from a --to b --all --adopt` (the built binary) and watches
// both Ironics while it runs: a poller reads B's node list, then A's, then
// B's again, over and over, and checks each snapshot — A's nodes stay
// active and powered on, in maintenance only with a migration's reason,
// never taken out of it again (no rollback here); B's nodes only ever in
// an enrollment's states, powered on; no node active and out of
// maintenance in both (in A and in both reads of B around it), none in
// neither. Afterwards every node is adopted and protected in B and absent
// from A; the logs say the same of every moment (B: only an enrollment's
// states, ending active; A: no state; no power action in either; B had it
// active before A deleted it); and every request the host sent either
// Ironic (through a recording proxy) was harmless: A got only a hold (PUT
// maintenance) and a release (DELETE) per node, B no provision target but
// manage and adopt, no power or other machine-touching call.
func handoffFullMove(t *testing.T, e *handoffEnv, nodes []ironic.Node) {
	n := len(nodes)
	recA, err := e.A.Recorder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = recA.Close() })
	recB, err := e.B.Recorder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = recB.Close() })
	marks := map[string]logMark{}
	for _, node := range nodes {
		marks[node.UUID] = markLog(t, e.A, node.UUID)
	}
	h := startHandoffHost(t, e.hostConfig(t, "", handoffURLs{a: recA.URL, b: recB.URL}, ""))

	w := e.watch(nodes)
	args := append([]string{"migrate", "--from", "a", "--to", "b", "--all", "--adopt", "-f", "json"}, e.cliMaps(nodes)...)
	r := runMoganWithin(t, 15*time.Minute, []string{"MOGAN_URL=" + h.URL}, args...)
	w.finish()
	t.Logf("mogan migrate --all: exit %d in %s; the watch took %d snapshots (%d failed reads); %d nodes seen held in A",
		r.code, r.elapsed.Round(100*time.Millisecond), w.snapshots, w.failed, len(w.held))
	if r.code != 0 {
		t.Errorf("mogan migrate: exit %d\nstderr: %s", r.code, r.stderr)
	}
	rows := migrateRows(t, r)
	if len(rows) != n {
		t.Errorf("mogan migrate reported %d machines, want %d", len(rows), n)
	}
	for _, node := range nodes {
		if row := rows[node.Name]; row.Outcome != "migrated" {
			t.Errorf("node %s: %+v (reason %q), want migrated", node.Name, row, deref(row.Reason))
		}
		if _, wrong := e.adoptedInB(t, h.URL, node.UUID); wrong != "" {
			t.Errorf("node %s: %s", node.UUID, wrong)
		}
		checkHandoffLogs(t, e, node.UUID, marks[node.UUID], true)
	}
	for _, p := range w.problems {
		t.Error("during the move: " + p)
	}
	if len(w.unheld) > 0 {
		t.Errorf("nodes taken out of maintenance in A during a move without rollback: %v", slices.Sorted(maps.Keys(w.unheld)))
	}
	if w.snapshots < 3 {
		t.Errorf("the watch took only %d snapshots", w.snapshots)
	}
	checkRecorded(t, "A", recA, func(method, path string) bool {
		return (method == http.MethodPut && sourceHold.MatchString(path)) || (method == http.MethodDelete && sourceRelease.MatchString(path))
	})
	checkRecorded(t, "B", recB, func(method, _ string) bool { return method != http.MethodDelete })
}

// What the host may write to a source node: its hold and its release.
var (
	sourceHold    = regexp.MustCompile(`^/v1/nodes/[0-9a-f-]{36}/maintenance$`)
	sourceRelease = regexp.MustCompile(`^/v1/nodes/[0-9a-f-]{36}$`)
)

// checkRecorded fails the test for each request the recorder saw that
// touches a machine, or that is a write allowed refuses.
func checkRecorded(t *testing.T, name string, rec *ironic.Recorder, allowed func(method, path string) bool) {
	t.Helper()
	writes := 0
	for _, req := range rec.All() {
		if why := rec.Forbidden(req); why != "" {
			t.Errorf("%s got %s %s: %s", name, req.Method, req.Path, why)
		}
		if req.Method == http.MethodGet || req.Method == http.MethodHead {
			continue
		}
		writes++
		if !allowed(req.Method, req.Path) {
			t.Errorf("%s got %s %s %s", name, req.Method, req.Path, req.Body)
		}
	}
	t.Logf("%s got %d requests, %d writes", name, len(rec.All()), writes)
}

// handoffWatch polls both Ironics while a handoff runs and checks every
// snapshot (see TestHandoffFullMove).
type handoffWatch struct {
	e     *handoffEnv
	nodes map[string]bool
	stop  chan struct{}
	done  chan struct{}
	hc    *http.Client

	// Read after finish.
	snapshots, failed int
	problems          []string
	seen              map[string]bool // problems by node and kind, each reported once
	held, unheld      map[string]bool
}

// listedNode is a node of a listing.
type listedNode struct {
	UUID              string  `json:"uuid"`
	ProvisionState    string  `json:"provision_state"`
	Maintenance       bool    `json:"maintenance"`
	MaintenanceReason *string `json:"maintenance_reason"`
	PowerState        *string `json:"power_state"`
}

// live: active and out of maintenance, a node its cloud may act on.
func (n listedNode) live() bool { return n.ProvisionState == "active" && !n.Maintenance }

// watch starts watching the nodes; finish stops it.
func (e *handoffEnv) watch(nodes []ironic.Node) *handoffWatch {
	w := &handoffWatch{e: e, nodes: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{}),
		hc: &http.Client{Timeout: 30 * time.Second}, seen: map[string]bool{}, held: map[string]bool{}, unheld: map[string]bool{}}
	for _, n := range nodes {
		w.nodes[n.UUID] = true
	}
	go w.run()
	return w
}

// finish stops the watch after one more snapshot.
func (w *handoffWatch) finish() {
	close(w.stop)
	<-w.done
}

func (w *handoffWatch) run() {
	defer close(w.done)
	for {
		b1, err1 := w.list(w.e.B.URL)
		a, err2 := w.list(w.e.A.URL)
		b2, err3 := w.list(w.e.B.URL)
		if err1 != nil || err2 != nil || err3 != nil {
			w.failed++
		} else {
			w.snapshots++
			w.check(a, b1, b2)
		}
		select {
		case <-w.stop:
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// list reads an Ironic's nodes, by uuid.
func (w *handoffWatch) list(base string) (map[string]listedNode, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet,
		base+"/v1/nodes?fields=uuid,provision_state,maintenance,maintenance_reason,power_state&limit=1000", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-OpenStack-Ironic-API-Version", "latest")
	resp, err := w.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/v1/nodes: %s", base, resp.Status)
	}
	var list struct {
		Nodes []listedNode `json:"nodes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, err
	}
	out := make(map[string]listedNode, len(list.Nodes))
	for _, n := range list.Nodes {
		out[n.UUID] = n
	}
	return out, nil
}

func (w *handoffWatch) problem(node, kind, format string, args ...any) {
	if key := node + " " + kind; !w.seen[key] {
		w.seen[key] = true
		w.problems = append(w.problems, fmt.Sprintf("snapshot %d: node %s: ", w.snapshots, node)+fmt.Sprintf(format, args...))
	}
}

// check checks one snapshot: B read, then A, then B again.
func (w *handoffWatch) check(a, b1, b2 map[string]listedNode) {
	for id := range w.nodes {
		na, inA := a[id]
		if inA {
			if na.ProvisionState != "active" {
				w.problem(id, "A state", "in A in provision state %q", na.ProvisionState)
			}
			if deref(na.PowerState) != "power on" {
				w.problem(id, "A power", "in A with power state %q", deref(na.PowerState))
			}
			switch {
			case na.Maintenance && !strings.HasPrefix(deref(na.MaintenanceReason), "mogan-manage migration "):
				w.problem(id, "A reason", "in maintenance in A with reason %q", deref(na.MaintenanceReason))
			case na.Maintenance:
				w.held[id] = true
			case w.held[id]:
				w.unheld[id] = true
			}
		}
		nb1, inB1 := b1[id]
		nb2, inB2 := b2[id]
		for _, nb := range []struct {
			n  listedNode
			in bool
		}{{nb1, inB1}, {nb2, inB2}} {
			if !nb.in {
				continue
			}
			if !slices.Contains(targetStates, nb.n.ProvisionState) {
				w.problem(id, "B state", "in B in provision state %q", nb.n.ProvisionState)
			}
			if deref(nb.n.PowerState) != "power on" {
				w.problem(id, "B power", "in B with power state %q", deref(nb.n.PowerState))
			}
		}
		if inA && inB1 && inB2 && na.live() && nb1.live() && nb2.live() {
			w.problem(id, "both", "active and out of maintenance in both A and B")
		}
		if !inA && !inB1 && !inB2 {
			w.problem(id, "neither", "in neither A nor B")
		}
	}
}
