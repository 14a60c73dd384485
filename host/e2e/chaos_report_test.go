package e2e

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The chaos test's failure report: for each node that ended wrong, what
// Ironic, Neutron, the API and the store say, what its clients were
// answered, and the replicas' log lines that name the node, its servers or
// its requests (the whole logs, at debug, are kept in a directory the
// report names).

// reportedNodes is how many wrong nodes the report details.
const reportedNodes = 8

// report fails the test with what an engineer needs to replay and read
// the run.
func (env *chaosEnv) report(t *testing.T, db *sql.DB, v verdict, av actionsVerdict) {
	t.Helper()
	env.keepLogs(t)
	bad := slices.Clone(v.wrongNodes)
	for _, n := range env.nodes {
		if len(av.byNode[n.UUID]) > 0 && !slices.Contains(bad, n.UUID) {
			bad = append(bad, n.UUID)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d (replay: MOGAN_CHAOS_SEED=%d): %d stranded, %d wrong bindings, %d wrong interlocks, %d audit-trail problems\n",
		env.seed, env.seed, len(v.stranded), v.wrongBindings, v.wrongInterlock, len(av.wrong))
	fmt.Fprintf(&b, "chaos: %s\n", strings.Join(env.events, "; "))
	for i, id := range bad {
		if i == reportedNodes {
			fmt.Fprintf(&b, "\n… and %d more nodes: %s\n", len(bad)-i, strings.Join(bad[i:], " "))
			break
		}
		b.WriteString(env.nodeReport(t, db, env.byUUID[id], v.nodes[id], av))
	}
	var general []string
	for _, w := range av.wrong {
		if !strings.HasPrefix(w, "node ") {
			general = append(general, w)
		}
	}
	if len(general) > 0 {
		fmt.Fprintf(&b, "\naudit trail:\n  %s\n", strings.Join(general, "\n  "))
	}
	t.Error(b.String())
}

// nodeReport is everything known about node n.
func (env *chaosEnv) nodeReport(t *testing.T, db *sql.DB, n *chaosNode, nv *nodeVerdict, av actionsVerdict) string {
	t.Helper()
	var b strings.Builder
	history := "adopted under the chaos"
	if n.setup {
		history = "adopted at setup as " + n.server + ", unmanaged under the chaos"
	}
	fmt.Fprintf(&b, "\n--- node %s (backend %s; %s) is %s\n", n.UUID, n.backend, history, nv.state)
	for _, p := range slices.Concat(nv.problems, nv.wrongPort, nonEmpty(nv.interlock), av.byNode[n.UUID]) {
		fmt.Fprintf(&b, "  wrong: %s\n", p)
	}
	fmt.Fprintf(&b, "  Ironic (%s): %s\n  at setup: %s\n", n.backend, nv.ironic, n.prior)
	for _, p := range n.ports {
		role := "recorded, not reported: never bound"
		if slices.Contains(n.vifs, p) {
			role = "VIF"
		}
		fmt.Fprintf(&b, "  Neutron port %s (%s): %s, at setup %s\n", p, role, nv.bindings[p], n.before[p])
	}
	fmt.Fprintf(&b, "  the API's servers of the node: %+v\n", nv.servers)

	patterns := []string{n.UUID}
	servers := []string{}
	for s, node := range av.serverNode {
		if node == n.UUID {
			servers = append(servers, s)
		}
	}
	slices.Sort(servers)
	patterns = append(patterns, servers...)
	store := map[string][]string{
		"servers":            queryRows(t, db, `SELECT uuid, status, backend, bindings FROM servers WHERE node_uuid = $1`, n.UUID),
		"intents":            queryRows(t, db, `SELECT server_uuid, action, state, owner, owner_epoch, fence, last_error, steps FROM intents WHERE node_uuid = $1`, n.UUID),
		"tombstones":         queryRows(t, db, `SELECT server_uuid, backend, created_at FROM tombstones WHERE node_uuid = $1`, n.UUID),
		"binding tombstones": queryRows(t, db, `SELECT port_id, prev_host_id, prev_vnic_type, created_at FROM binding_tombstones WHERE node_uuid = $1`, n.UUID),
	}
	for _, a := range av.actions {
		if slices.Contains(servers, a.server) {
			store["actions"] = append(store["actions"], a.String())
			patterns = append(patterns, a.requestID)
		}
	}
	for _, what := range []string{"servers", "intents", "tombstones", "binding tombstones", "actions"} {
		fmt.Fprintf(&b, "  the store's %s: %s\n", what, orNone(store[what]))
	}
	for _, op := range env.ops {
		if op.node != n {
			continue
		}
		for i, a := range op.attempts {
			fmt.Fprintf(&b, "  client %s, attempt %d: %s\n", op.kind, i+1, a)
			if a.requestID != "" {
				patterns = append(patterns, a.requestID)
			}
		}
	}
	lines := env.logLines(patterns)
	fmt.Fprintf(&b, "  log lines naming the node, its servers or requests (%d):\n", len(lines))
	if len(lines) > 80 {
		lines = slices.Concat(lines[:30], []string{fmt.Sprintf("… %d lines …", len(lines)-60)}, lines[len(lines)-30:])
	}
	for _, l := range lines {
		fmt.Fprintf(&b, "    %s\n", clipped(l, 600))
	}
	return b.String()
}

func orNone(rows []string) string {
	if len(rows) == 0 {
		return "none"
	}
	return "\n    " + strings.Join(rows, "\n    ")
}

// logLines are the lines of every replica process's log holding any of
// patterns, each prefixed with its process (r1#2: r1's second), in time
// order (hclog's lines begin with their time).
func (env *chaosEnv) logLines(patterns []string) []string {
	var out []string
	for _, r := range env.replicas {
		for i, h := range r.lives {
			for line := range strings.SplitSeq(h.logs.String(), "\n") {
				if slices.ContainsFunc(patterns, func(p string) bool { return p != "" && strings.Contains(line, p) }) {
					out = append(out, fmt.Sprintf("%s#%d | %s", r.name, i+1, line))
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		_, ta, _ := strings.Cut(a, " | ")
		_, tb, _ := strings.Cut(b, " | ")
		return strings.Compare(firstField(ta), firstField(tb))
	})
	return out
}

func firstField(s string) string {
	f, _, _ := strings.Cut(s, " ")
	return f
}
