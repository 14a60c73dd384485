package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/cloud"
	"github.com/mogan-manage/mogan-manage/testenv/holdproxy"
)

// The SIGKILL matrix of a migration (issue 17): the host is killed while
// each step's request is held by a proxy in front of Ironic or Neutron,
// before and after the service acted; then the host is restarted on its
// database (SQLite), or — the second run — the other replica of two on
// PostgreSQL takes the migration over once its lease has run out. Every
// migration must end done or rolled back, with no duplicate (one node and
// at most one server per machine) and no orphan (a node carrying a
// migration's marker, or a Neutron port of ours, whose migration is not
// done), and Ironic's log must show nothing done to any node but what a
// migration may do.

// migKillPoint is a request of a migration's step the proxy holds.
type migKillPoint struct {
	name    string // the step and its call, as the matrix names them
	service string // "ironic" or "neutron": whose request is held
	method  string
	path    string // a regexp of the request's path
	nth     int    // the nth request matching (from 1)
	// nodeBefore: the node exists when the request is sent (each point
	// after the node's creation), so a repair finishes the migration
	// (DESIGN, "Migration": "A repair never needs them [the secrets]:
	// the node exists by then, or the step is undone").
	nodeBefore bool
}

// migKillPoints are every step's writes: the Neutron port, the node's
// creation, its port's, manage, adopt and protect (enroll), the binding
// and the association (the adoption).
var migKillPoints = []migKillPoint{
	{"neutron_port: create the Neutron port", "neutron", http.MethodPost, `/ports$`, 1, false},
	{"enroll: create the node", "ironic", http.MethodPost, `^/v1/nodes$`, 1, false},
	{"enroll: create its port", "ironic", http.MethodPost, `^/v1/ports$`, 1, true},
	{"enroll: manage", "ironic", http.MethodPut, `^/v1/nodes/[^/]+/states/provision$`, 1, true},
	{"enroll: adopt", "ironic", http.MethodPut, `^/v1/nodes/[^/]+/states/provision$`, 2, true},
	{"enroll: protect", "ironic", http.MethodPatch, `^/v1/nodes/[^/]+$`, 1, true},
	{"adopt: bind the port", "neutron", http.MethodPut, `/ports/[^/]+$`, 1, true},
	{"adopt: manage (associate)", "ironic", http.MethodPatch, `^/v1/nodes/[^/]+$`, 2, true},
}

// want is how a migration killed at kc's point must end: done once its
// node exists (created, or the creation acted), else rolled back (its
// secrets are gone with the killed host).
func (kc *migKillCase) want() string {
	if kc.point.nodeBefore || (kc.point.name == "enroll: create the node" && kc.phase == holdproxy.AfterForward) {
		return "done"
	}
	return "rolled_back"
}

// migKillCase is one point of the matrix at one phase.
type migKillCase struct {
	point migKillPoint
	phase holdproxy.Phase
	m     migMachine
	proxy *holdproxy.Proxy
	rule  *holdproxy.Rule
	// killed is the host killed mid-step; after the one that ends the
	// migration (restarted on killed's database, or the other replica).
	killed, after *host
	dbPath        string // SQLite: the killed host's database
	migration     string
	// intents are the migrations the killed host left unfinished in its
	// store.
	intents []string
	result  migView
}

func phaseName(p holdproxy.Phase) string {
	if p == holdproxy.BeforeForward {
		return "before the service acted"
	}
	return "after it acted"
}

// TestMigrateKillMatrix: every point, before and after its service acted,
// the host SIGKILLed and restarted on its SQLite database (eight at once,
// each its own host and proxy).
func TestMigrateKillMatrix(t *testing.T) {
	c, image := migStartCloud(t)
	before := migMarks(t, c)
	var cases []*migKillCase
	block := 0x60
	for _, phase := range []holdproxy.Phase{holdproxy.BeforeForward, holdproxy.AfterForward} {
		var batch []*migKillCase
		for i, p := range migKillPoints {
			m := migMachines(fmt.Sprintf("kill%d", block), block, len(migKillPoints), 1, image)[i]
			batch = append(batch, &migKillCase{point: p, phase: phase, m: m})
		}
		block++
		migKillSingle(t, c, batch)
		cases = append(cases, batch...)
	}
	migJudgeKills(t, c, image, before, cases, "SIGKILL, restart on SQLite")
}

// TestMigrateKillReplicaTakesOver: two replicas on one PostgreSQL (a
// replica per point, each with its proxy, and one that survives); each
// proxied replica is SIGKILLed at its point, and the survivor takes its
// migration over once the lease (3 s) has run out.
func TestMigrateKillReplicaTakesOver(t *testing.T) {
	c, image := migStartCloud(t)
	before := migMarks(t, c)
	var cases []*migKillCase
	block := 0x70
	for _, phase := range []holdproxy.Phase{holdproxy.BeforeForward, holdproxy.AfterForward} {
		var batch []*migKillCase
		for i, p := range migKillPoints {
			m := migMachines(fmt.Sprintf("kill%d", block), block, len(migKillPoints), 1, image)[i]
			batch = append(batch, &migKillCase{point: p, phase: phase, m: m})
		}
		block++
		migKillReplicas(t, c, batch)
		cases = append(cases, batch...)
	}
	migJudgeKills(t, c, image, before, cases, "SIGKILL of one replica of two on PostgreSQL, the other takes over")
}

// migKillSingle runs a batch: for each case a host (SQLite) on a proxy in
// front of the held service, the migration posted, the host killed once
// the proxy holds the point's request, then restarted on its database
// without the proxy.
func migKillSingle(t *testing.T, c *cloud.Cloud, batch []*migKillCase) {
	t.Helper()
	for _, kc := range batch {
		kc.dbPath = filepath.Join(t.TempDir(), "mogan.sqlite")
		ironicURL, neutronURL := migProxied(t, c, kc)
		kc.killed = migStartHost(t, migHostConfig(t, c, "sqlite://"+kc.dbPath, ironicURL, neutronURL, "[manage]\nreconcile_interval = 0\n"))
	}
	migKillAll(t, c, batch)
	for _, kc := range batch {
		kc.intents = intentServers(t, kc.dbPath)
		kc.after = migStartHost(t, migHostConfig(t, c, "sqlite://"+kc.dbPath, c.Ironic.URL, c.Neutron.URL, "[manage]\nreconcile_interval = 1\n"))
	}
}

// migKillReplicas runs a batch on one PostgreSQL database: a replica per
// case on a proxy, killed at its point, and one replica on the services
// themselves that takes the migrations over.
func migKillReplicas(t *testing.T, c *cloud.Cloud, batch []*migKillCase) {
	t.Helper()
	db := createDatabase(t)
	survivor := withHost(migHostConfig(t, c, db, c.Ironic.URL, c.Neutron.URL, fencedManage), "replica-survivor")
	dbSync(t, survivor)
	// The replicas to kill run no reconciler: one would take over another
	// killed one's migration (its lease run out), through its own proxy.
	for i, kc := range batch {
		ironicURL, neutronURL := migProxied(t, c, kc)
		kc.killed = migStartHost(t, withHost(migHostConfig(t, c, db, ironicURL, neutronURL, "[manage]\nreconcile_interval = 0\nintent_lease = 3\n"),
			fmt.Sprintf("replica-%d", i)))
	}
	after := migStartHost(t, survivor)
	for _, kc := range batch {
		kc.after = after
	}
	migKillAll(t, c, batch)
}

// migProxied starts kc's proxy in front of its point's service and sets
// its rule; it returns the Ironic and Neutron URLs for kc's host.
func migProxied(t *testing.T, c *cloud.Cloud, kc *migKillCase) (ironicURL, neutronURL string) {
	t.Helper()
	target := c.Ironic.URL
	if kc.point.service == "neutron" {
		target = c.Neutron.URL
	}
	proxy, err := holdproxy.Start(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	kc.proxy = proxy
	kc.rule = proxy.HoldNth(kc.point.method, kc.point.path, kc.point.nth, kc.phase)
	if kc.point.service == "neutron" {
		return c.Ironic.URL, proxy.URL
	}
	return proxy.URL, c.Neutron.URL
}

// migKillAll posts each case's migration (with a server) to its host,
// kills each host as soon as its proxy holds the point's request (before
// the driver's or Neutron's deadline could end the call), and then closes
// the proxies: what they held before forwarding never reaches the
// service.
func migKillAll(t *testing.T, c *cloud.Cloud, batch []*migKillCase) {
	t.Helper()
	for _, kc := range batch {
		code, body := post(t, kc.killed.URL+"/v1/migrations", migBody(t, kc.m, "provisioning", true))
		if code != http.StatusAccepted {
			t.Fatalf("%s, %s: migrate: %d %s", kc.point.name, phaseName(kc.phase), code, body)
		}
		var m migView
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		kc.migration = m.UUID
	}
	var wg sync.WaitGroup
	missed := make([]bool, len(batch))
	for i, kc := range batch {
		wg.Go(func() {
			select {
			case <-kc.rule.Reached:
			case <-time.After(2 * time.Minute):
				missed[i] = true
			}
			_ = kc.killed.cmd.Process.Kill()
			<-kc.killed.done
		})
	}
	wg.Wait()
	for i, kc := range batch {
		kc.proxy.Close()
		if missed[i] {
			t.Errorf("%s, %s: migration %s never reached the point; requests seen: %v\nhost log:\n%s", kc.point.name, phaseName(kc.phase),
				kc.migration, kc.proxy.Requests(), migLogLines(kc.killed.logs.String(), 30, kc.migration, "level=ERROR", "[ERROR]"))
		}
	}
}

// migJudgeKills waits for every case's migration to end, checks it, and
// logs the matrix: the point, the phase, and what Ironic, Neutron and the
// store hold after.
func migJudgeKills(t *testing.T, c *cloud.Cloud, image string, before map[string]bool, cases []*migKillCase, how string) {
	t.Helper()
	for _, kc := range cases {
		if wrong := settle(2*time.Minute, func() string {
			kc.result = migGet(t, kc.after.URL, kc.migration)
			if !migFinal(kc.result.Status) {
				return kc.result.String() + " is not final"
			}
			return ""
		}); wrong != "" {
			t.Errorf("%s, %s: %s\nlog of the host that carries it on:\n%s", kc.point.name, phaseName(kc.phase), wrong,
				migLogLines(kc.after.logs.String(), 30, kc.migration))
		}
	}
	done := map[string]bool{}
	for _, kc := range cases {
		if kc.result.Status == "done" {
			done[kc.migration] = true
		}
	}
	nodes := migIronicNodes(t, c.Ironic.URL)
	ports := migIronicPorts(t, c.Ironic.URL)
	neutron := migOurPorts(t, c)
	byName := map[string][]migNode{}
	for _, n := range nodes {
		byName[deref(n.Name)] = append(byName[deref(n.Name)], n)
	}
	seenServers := map[*host]map[string]migServer{}
	var table strings.Builder
	table.WriteString("| step: request held | killed | want | migration | Ironic after | Neutron after | store after |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	outcomes := map[string]int{}
	for _, kc := range cases {
		label := kc.point.name + ", " + phaseName(kc.phase)
		if seenServers[kc.after] == nil {
			seenServers[kc.after] = migServers(t, kc.after.URL)
		}
		r := kc.result
		srv, adopted := seenServers[kc.after][r.NodeUUID]
		mine := byName[kc.m.Name]
		var ourPorts []migNeutronPort
		for _, p := range neutron {
			if p.migration() == kc.migration {
				ourPorts = append(ourPorts, p)
			}
		}
		if r.Status != kc.want() {
			t.Errorf("%s: %s; want %s (the node %s when the host was killed)", label, r, kc.want(),
				map[bool]string{true: "existed", false: "did not exist"}[kc.want() == "done"])
		}
		switch r.Status {
		case "done":
			var sp *migServer
			if adopted {
				sp = &srv
			}
			switch {
			case len(mine) != 1:
				t.Errorf("%s: machine %s has %d nodes in Ironic; want 1", label, kc.m.Name, len(mine))
			case !adopted:
				t.Errorf("%s: %s, but the host has no server of node %s (Ironic instance_uuid %q)\nhost log:\n%s", label, r, r.NodeUUID,
					deref(mine[0].InstanceUUID), migLogLines(kc.after.logs.String(), 30, kc.migration, deref(r.ServerUUID)))
			default:
				if wrong := migCheckMigrated(kc.m, r, mine[0], ports[mine[0].UUID], neutron, sp, image); wrong != "" {
					t.Errorf("%s: %s\nhost log:\n%s", label, wrong, migLogLines(kc.after.logs.String(), 30, kc.migration))
				}
			}
		case "rolled_back":
			if len(mine) != 0 || len(ourPorts) != 0 || adopted {
				t.Errorf("%s: %s rolled back, but Ironic has %d nodes named %s, Neutron %d ports of it, the host a server: %v",
					label, r, len(mine), kc.m.Name, len(ourPorts), adopted)
			}
		default:
			t.Errorf("%s: %s; want done or rolled back", label, r)
		}
		outcomes[r.Status]++
		if _, wrong := migTouched(t, c.Ironic, r.NodeUUID); wrong != "" {
			t.Errorf("%s: %s", label, wrong)
		}
		ironicAfter := "no node"
		if len(mine) == 1 {
			n := mine[0]
			ironicAfter = fmt.Sprintf("%s, protected %v, instance %s", n.ProvisionState, n.Protected, migDash(short(deref(n.InstanceUUID))))
		} else if len(mine) > 1 {
			ironicAfter = fmt.Sprintf("%d nodes", len(mine))
		}
		neutronAfter := "no port"
		if len(ourPorts) > 0 {
			var ps []string
			for _, p := range ourPorts {
				b := "unbound"
				if p.HostID != "" {
					b = "bound " + p.VNICType
				}
				ps = append(ps, b)
			}
			neutronAfter = fmt.Sprintf("%d port: %s", len(ourPorts), strings.Join(ps, ", "))
		}
		storeAfter := r.Status
		if adopted {
			storeAfter += ", server " + srv.Status
		}
		if kc.dbPath != "" {
			storeAfter += fmt.Sprintf(" (the killed host left %d intent)", len(kc.intents))
		}
		storeAfter += ", migration's server " + migDash(short(deref(r.ServerUUID)))
		fmt.Fprintf(&table, "| %s | %s | %s | %s | %s | %s | %s |\n", kc.point.name, phaseName(kc.phase), kc.want(), r.Status, ironicAfter,
			neutronAfter, storeAfter)
	}
	if left := migLeftovers(t, c, before, done); left != "" {
		t.Errorf("orphans:\n%s", left)
	}
	t.Logf("%s: %v, 0 duplicates, orphans as above\n%s", how, outcomes, table.String())
}

// migDash is s, or "–" for "".
func migDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// short is a uuid's first block.
func short(id string) string {
	if i := strings.IndexByte(id, '-'); i > 0 {
		return id[:i]
	}
	return id
}
