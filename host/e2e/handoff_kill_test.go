package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/holdproxy"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// handoffKillPoint is a request of a handoff that the host is killed in,
// held by a proxy in front of the service before or after it acted.
type handoffKillPoint struct {
	name    string
	service string // "a", "b" or "neutron": whose request is held
	method  string
	// path is the request's pattern; %s stands for the node's uuid. A
	// pattern without it matches any node's request: its rule is added
	// just before the node's migration starts, when every migration
	// started before is held at its own point.
	path string
	nth  int // the nth matching request (1: the first; 0: every one)
	// committed: the release is recorded by then (DESIGN: only forward),
	// so the node must end adopted in B.
	committed bool
}

// handoffKillPoints are the handoff's requests, in its order: the hold in
// A, B's Neutron port, B's node create, manage and adopt (the
// enrollment's provision requests, in that order), B's protection (the
// enrollment's only PATCH), the release in A (the commit recorded just
// before it), and the adoption's PATCH in B (the interlock).
var handoffKillPoints = []handoffKillPoint{
	{name: "hold: A's PUT maintenance", service: "a", method: http.MethodPut, path: `^/v1/nodes/%s/maintenance$`},
	{name: "B's Neutron port create", service: "neutron", method: http.MethodPost, path: `/ports$`, nth: 1},
	{name: "B's node create", service: "b", method: http.MethodPost, path: `^/v1/nodes$`, nth: 1},
	{name: "manage in B", service: "b", method: http.MethodPut, path: `^/v1/nodes/%s/states/provision$`, nth: 1},
	{name: "adopt in B (the enrollment's)", service: "b", method: http.MethodPut, path: `^/v1/nodes/%s/states/provision$`, nth: 2},
	{name: "protect in B", service: "b", method: http.MethodPatch, path: `^/v1/nodes/%s$`, nth: 1},
	{name: "release: A's DELETE", service: "a", method: http.MethodDelete, path: `^/v1/nodes/%s$`, committed: true},
	{name: "adoption: B's PATCH", service: "b", method: http.MethodPatch, path: `^/v1/nodes/%s$`, nth: 2, committed: true},
}

// handoffKillCase is one point in one phase, on its own node.
type handoffKillCase struct {
	point     handoffKillPoint
	phase     holdproxy.Phase
	node      ironic.Node
	before    map[string]any
	migration string
}

func (c handoffKillCase) String() string {
	phase := "before it acted"
	if c.phase == holdproxy.AfterForward {
		phase = "after it acted"
	}
	return c.point.name + ", " + phase
}

// handoffKillMatrix SIGKILLs the host in every request of the
// handoff: for each point of handoffKillPoints, before and after the
// service acted, one node's handoff (16 at once, each held at its own
// point by proxies in front of A, B and B's Neutron) is in flight when the
// host is killed. Then the host is restarted (SQLite), or a second
// replica sharing PostgreSQL takes over once the killed one's leases run
// out; and every node ends either fully in A exactly as it was (every
// field; nothing of it in B) or fully adopted in B (gone from A; active,
// protected, associated with an active server, its ports' VIFs bound):
// none in both, none in neither. A node whose release was under way when
// the host died ends in B. The table of where each ended is logged.
// It takes 4 nodes a point (two phases, two variants).
func handoffKillMatrix(t *testing.T, e *handoffEnv, nodes []ironic.Node) {
	n := 2 * len(handoffKillPoints)
	for i, variant := range []struct {
		name     string
		replicas bool
	}{{"one host on SQLite, restarted", false}, {"two replicas on PostgreSQL, one killed", true}} {
		t.Run(variant.name, func(t *testing.T) {
			var cases []*handoffKillCase
			for j, p := range handoffKillPoints {
				for k, phase := range []holdproxy.Phase{holdproxy.BeforeForward, holdproxy.AfterForward} {
					cases = append(cases, &handoffKillCase{point: p, phase: phase, node: nodes[i*n+2*j+k]})
				}
			}
			killHandoffs(t, e, cases, variant.replicas)
		})
	}
}

// killHandoffs runs the cases' handoffs through a host whose services are
// behind proxies, holds each at its point, kills the host, and checks
// where each node ends once the host is restarted (or, with replicas,
// once the second replica has taken over).
func killHandoffs(t *testing.T, e *handoffEnv, cases []*handoffKillCase, replicas bool) {
	proxies := map[string]*holdproxy.Proxy{}
	for name, url := range map[string]string{"a": e.A.URL, "b": e.B.URL, "neutron": e.Neutron.URL} {
		p, err := holdproxy.Start(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		proxies[name] = p
	}
	targetBefore := e.targetInventory(t)
	for _, c := range cases {
		c.before = nodeRecord(t, e.A.URL, c.node.UUID)
	}
	viaProxies := handoffURLs{a: proxies["a"].URL, b: proxies["b"].URL, neutron: proxies["neutron"].URL, timeout: 900}
	// The host that is killed, and how the other carries on: a restart of
	// it on the same SQLite database, or a replica already running on
	// PostgreSQL that takes the killed one's intents over when their
	// leases run out. Either reaches the services directly.
	var killed *host
	var carryOn func() *host
	if replicas {
		conn := createDatabase(t)
		const lease = "intent_lease = 3\n"
		r1 := withHost(e.hostConfig(t, conn, viaProxies, lease), "replica-1")
		dbSync(t, r1)
		killed = startHandoffHost(t, r1)
		r2 := startHandoffHost(t, withHost(e.hostConfig(t, conn, handoffURLs{}, lease), "replica-2"))
		carryOn = func() *host { return r2 }
	} else {
		db := "sqlite://" + filepath.Join(t.TempDir(), "mogan.sqlite")
		killed = startHandoffHost(t, e.hostConfig(t, db, viaProxies, ""))
		carryOn = func() *host { return startHandoffHost(t, e.hostConfig(t, db, handoffURLs{}, "")) }
	}
	// A point whose request names no node is held in the first such
	// request after its rule is added: its migration starts alone, the
	// others being held where they are. Those that name their node start
	// together after.
	var rules []*holdproxy.Rule
	start := func(c *handoffKillCase) *holdproxy.Rule {
		path := c.point.path
		if strings.Contains(path, "%s") {
			path = fmt.Sprintf(path, c.node.UUID)
		}
		rule := proxies[c.point.service].HoldNth(c.point.method, path, c.point.nth, c.phase)
		rules = append(rules, rule)
		c.migration = startMigration(t, killed.URL, e.handoffRequest(c.node)).UUID
		return rule
	}
	held := func(c *handoffKillCase, rule *holdproxy.Rule) {
		for deadline := time.Now().Add(3 * time.Minute); ; {
			select {
			case <-rule.Reached:
				return
			case <-time.After(time.Second):
			}
			if m := getMigration(t, killed.URL, c.migration); migrationEnded(m.Status) || time.Now().After(deadline) {
				t.Fatalf("%s: the request was never held: migration %s is %s (%q): %s", c, c.migration, m.Status, deref(m.Error), m.stepsString())
			}
		}
	}
	var named []*handoffKillCase
	for _, c := range cases {
		if strings.Contains(c.point.path, "%s") {
			named = append(named, c)
			continue
		}
		held(c, start(c))
	}
	named0 := len(rules)
	for _, c := range named {
		start(c)
	}
	for i, c := range named {
		held(c, rules[named0+i])
	}
	killed.kill(t)
	for _, p := range proxies {
		p.Close() // what was held before the service saw it never reaches it
	}
	for _, r := range rules {
		r.Release()
	}
	checkKilledHandoffs(t, e, carryOn(), cases, targetBefore)
}

// checkKilledHandoffs waits for every case's migration to end and checks
// where its node is: fully in A as it was, or fully adopted in B; none in
// both, none in neither; B for a commit under way. It logs the table.
func checkKilledHandoffs(t *testing.T, e *handoffEnv, h *host, cases []*handoffKillCase, targetBefore targetInventory) {
	t.Helper()
	var table []string
	both, neither := 0, 0
	for _, c := range cases {
		m := waitMigration(t, h.URL, c.migration, 5*time.Minute)
		backInA := e.backInA(t, c.node.UUID, c.before, targetBefore)
		_, adopted := e.adoptedInB(t, h.URL, c.node.UUID)
		inA, inB := nodeRecord(t, e.A.URL, c.node.UUID) != nil, nodeRecord(t, e.B.URL, c.node.UUID) != nil
		if inA && inB {
			both++
		}
		if !inA && !inB {
			neither++
		}
		where := ""
		switch {
		case backInA == "":
			where = "in A as before, nothing in B"
		case adopted == "":
			where = "gone from A, adopted in B"
		default:
			where = fmt.Sprintf("BROKEN (in A: %v, in B: %v)", inA, inB)
			t.Errorf("%s: node %s is neither back in A (%s) nor adopted in B (%s); migration %s %s: %s",
				c, c.node.UUID, backInA, adopted, c.migration, m.Status, m.stepsString())
		}
		if c.point.committed && adopted != "" {
			t.Errorf("%s: the commit was recorded, yet node %s is not adopted in B: %s", c, c.node.UUID, adopted)
		}
		table = append(table, fmt.Sprintf("| %s | %s | %s |", c, m.Status, where))
	}
	if both != 0 || neither != 0 {
		t.Errorf("%d nodes in both A and B, %d in neither; want 0 and 0", both, neither)
	}
	t.Logf("where each node ended (%d in both, %d in neither):\n| killed in | migration | node |\n|---|---|---|\n%s",
		both, neither, strings.Join(table, "\n"))
}
