package e2e

import (
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The chaos test's audit trail. An action is written when an intent ends,
// so every adoption attempt that claimed its node and every unmanage that
// began leaves exactly one, under the request id of the call that began it
// — whichever replica finished it. Read from PostgreSQL (every action, and
// the tombstones that tie a rolled-back server uuid to its node) and
// compared with what the clients were answered, with the end state, and
// with GET /v1/servers/{uuid}/actions.

// actionRec is one row of the actions table.
type actionRec struct {
	server, action, requestID, result, message string
}

func (a actionRec) String() string {
	s := fmt.Sprintf("%s %s of server %s by %s", a.action, a.result, a.server, a.requestID)
	if a.message != "" {
		s += ": " + clipped(a.message, 160)
	}
	return s
}

// actionsVerdict is what the audit trail check found.
type actionsVerdict struct {
	checked, manage, unmanage, unattributed int
	wrong                                   []string
	byNode                                  map[string][]string // node → its problems
	serverNode                              map[string]string   // every server uuid tied to a node
	actions                                 []actionRec
}

func readActions(t *testing.T, db *sql.DB) []actionRec {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT server_uuid, action, request_id, result, coalesce(message, '') FROM actions ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []actionRec
	for rows.Next() {
		var a actionRec
		if err := rows.Scan(&a.server, &a.action, &a.requestID, &a.result, &a.message); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// tombstoneNodes maps each tombstoned server uuid to its node.
func tombstoneNodes(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT server_uuid, node_uuid FROM tombstones`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var s, n string
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		out[s] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkActions checks the audit trail against the clients' answers and
// the end state v.
func (env *chaosEnv) checkActions(t *testing.T, db *sql.DB, v verdict) actionsVerdict {
	t.Helper()
	av := actionsVerdict{byNode: map[string][]string{}, serverNode: tombstoneNodes(t, db), actions: readActions(t, db)}
	fail := func(node, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if node != "" {
			av.byNode[node] = append(av.byNode[node], msg)
			msg = "node " + node + ": " + msg
		}
		av.wrong = append(av.wrong, msg)
	}
	for node, servers := range v.servers {
		for _, s := range servers {
			av.serverNode[s.UUID] = node
		}
	}
	type sent struct {
		op *chaosOp
		a  attempt
	}
	byRequest := map[string]sent{}
	unanswered := map[string]int{} // node + " " + kind → attempts without an answer
	for _, n := range env.nodes {
		if n.setup {
			av.serverNode[n.server] = n.UUID
		}
	}
	for _, op := range env.ops {
		for _, a := range op.attempts {
			if a.requestID != "" {
				byRequest[a.requestID] = sent{op, a}
			} else {
				unanswered[op.node.UUID+" "+op.kind]++
			}
			if a.server != "" {
				av.serverNode[a.server] = op.node.UUID
			}
		}
	}

	// None doubled: one action per request id, and per server one of
	// each kind.
	perRequest, perServer := map[string][]actionRec{}, map[string][]actionRec{}
	for _, a := range av.actions {
		av.checked++
		perRequest[a.requestID] = append(perRequest[a.requestID], a)
		perServer[a.server+" "+a.action] = append(perServer[a.server+" "+a.action], a)
		if a.action == "manage" {
			av.manage++
		} else {
			av.unmanage++
		}
		if s, ok := byRequest[a.requestID]; ok {
			av.serverNode[a.server] = s.op.node.UUID
		}
	}
	for id, as := range perRequest {
		if len(as) > 1 {
			fail(av.serverNode[as[0].server], "request %s has %d actions: %v", id, len(as), as)
		}
	}
	for _, as := range perServer {
		if len(as) > 1 {
			fail(av.serverNode[as[0].server], "server %s has %d %s actions: %v", as[0].server, len(as), as[0].action, as)
		}
	}

	// Each answered attempt: a 201 or a 204 has its success, a "taken
	// over" its action (finished by the replica that took it over); any
	// action of a request is of its kind, for its node.
	for id, s := range byRequest {
		as := perRequest[id]
		want := ""
		switch {
		case s.op.kind == opAdopt && s.a.code == http.StatusCreated:
			want = "manage success of server " + s.a.server
		case s.op.kind == opUnmanage && s.a.code == http.StatusNoContent:
			want = "unmanage success of server " + s.op.node.server
		case strings.Contains(s.a.body, "taken over by another replica"):
			want = "one action"
		}
		kind := map[string]string{opAdopt: "manage", opUnmanage: "unmanage"}[s.op.kind]
		switch {
		case want != "" && len(as) != 1:
			fail(s.op.node.UUID, "attempt %s: %d actions, want %s", s.a, len(as), want)
		case len(as) == 1 && as[0].action != kind:
			fail(s.op.node.UUID, "attempt %s: action %s", s.a, as[0])
		case len(as) == 1 && want != "" && want != "one action" && want != as[0].action+" "+as[0].result+" of server "+as[0].server:
			fail(s.op.node.UUID, "attempt %s: action %s, want %s", s.a, as[0], want)
		case len(as) == 1 && s.op.kind == opUnmanage && as[0].server != s.op.node.server:
			fail(s.op.node.UUID, "attempt %s: action %s, want one of server %s", s.a, as[0], s.op.node.server)
		}
	}

	// The actions of requests whose clients never heard (their replica
	// died under them): no more than such attempts, for their nodes.
	// And the setup's adoptions: a success each.
	setupActions := 0
	unheard := map[string]int{} // kind, and node + " " + kind → actions of requests no client heard of
	for _, a := range av.actions {
		if env.setupReq[a.requestID] {
			if a.action != "manage" {
				fail(av.serverNode[a.server], "the setup's adoption has action %s", a)
			}
			if a.result == "success" {
				setupActions++
			}
			continue
		}
		if _, ok := byRequest[a.requestID]; ok {
			continue
		}
		av.unattributed++
		kind := map[string]string{"manage": opAdopt, "unmanage": opUnmanage}[a.action]
		unheard[kind]++
		if node, ok := av.serverNode[a.server]; ok {
			unheard[node+" "+kind]++
			if unheard[node+" "+kind] > unanswered[node+" "+kind] {
				fail(node, "action %s: its request is none of this node's clients' (%d attempts without an answer)", a, unanswered[node+" "+kind])
			}
		}
	}
	for _, kind := range []string{opAdopt, opUnmanage} {
		if n, most := unheard[kind], unansweredOf(unanswered, kind); n > most {
			fail("", "%d %s actions by requests no client heard of; only %d attempts got no answer", n, kind, most)
		}
	}
	if setupActions != 2*chaosSetupShare {
		fail("", "%d successful adoptions at setup, want %d", setupActions, 2*chaosSetupShare)
	}

	// The end state: an adopted node's server has its manage success and
	// no unmanage success; a released setup node its unmanage success; a
	// node no client adopted nor the setup has no manage success.
	successes := map[string][]actionRec{} // node → manage successes
	for _, a := range av.actions {
		if a.action == "manage" && a.result == "success" {
			successes[av.serverNode[a.server]] = append(successes[av.serverNode[a.server]], a)
		}
	}
	for _, n := range env.nodes {
		nv := v.nodes[n.UUID]
		released := perServer[n.server+" unmanage"]
		switch {
		case n.setup && nv.state == stateFree && (len(released) != 1 || released[0].result != "success"):
			fail(n.UUID, "free, but the unmanage actions of its setup server %s are %v", n.server, released)
		case n.setup && nv.state == stateAdopted && len(released) == 1 && released[0].result == "success":
			fail(n.UUID, "adopted, but its setup server %s was released: %v", n.server, released)
		case !n.setup && nv.state == stateAdopted && (len(successes[n.UUID]) != 1 || successes[n.UUID][0].server != nv.server):
			fail(n.UUID, "adopted by %s, but its successful adoptions are %v", nv.server, successes[n.UUID])
		case !n.setup && nv.state == stateFree && len(successes[n.UUID]) != 0:
			fail(n.UUID, "free, but adopted successfully by %v (nothing unmanages it)", successes[n.UUID])
		}
	}
	if unknown := successes[""]; len(unknown) > 0 {
		fail("", "successful adoptions of servers no node is known for: %v", unknown)
	}

	// The API shows each server's actions as the store has them.
	servers := map[string]bool{}
	for s := range av.serverNode {
		servers[s] = true
	}
	for _, a := range av.actions {
		servers[a.server] = true
	}
	for s := range servers {
		var want, got []string
		for _, a := range av.actions {
			if a.server == s {
				want = append(want, a.action+" "+a.result+" "+a.requestID)
			}
		}
		for _, a := range serverActions(t, env.replicas[1].url, s) {
			got = append(got, a.Action+" "+a.Result+" "+a.RequestID)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			fail(av.serverNode[s], "GET /v1/servers/%s/actions shows %v; the store has %v", s, got, want)
		}
	}
	return av
}

// unansweredOf counts the attempts of kind that got no answer.
func unansweredOf(unanswered map[string]int, kind string) int {
	n := 0
	for k, c := range unanswered {
		if strings.HasSuffix(k, " "+kind) {
			n += c
		}
	}
	return n
}
