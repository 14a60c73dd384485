package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/testenv/cloud"
	"github.com/mogan-manage/mogan-manage/testenv/holdproxy"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// The chaos test (issue 15, with issue 16's two backends): two mogan-api
// replicas on one PostgreSQL, two real Ironics as the backends east and
// west, one real Neutron, a proxy in front of each delaying one request in
// five past the call timeout. 100 adoptions and 50 unmanages of distinct
// nodes, spread over both replicas and both backends, while each replica
// is paused past its lease and resumed, and SIGKILLed and restarted at
// once. The answers are not judged: the end state is. Once no intent is
// left and every late request has landed, and the reconcilers have run,
// every node is exactly adopted or exactly free, as Ironic, Neutron and
// the API say, and the audit trail holds one action per adoption attempt
// that claimed and per unmanage, none doubled. Seeded: MOGAN_CHAOS_SEED
// replays a run.

const (
	chaosPerBackend = 75 // nodes in each Ironic
	chaosSetupShare = 25 // of which adopted at setup, then unmanaged under chaos
	chaosLease      = 4  // [manage] intent_lease, seconds
	chaosInterval   = 5  // [manage] reconcile_interval, seconds (see chaosShape)
	chaosTimeout    = 10 // [driver] call_timeout and [neutron] timeout, seconds
	chaosDelay      = (chaosTimeout + 3) * time.Second
	chaosOneIn      = 5  // one request in five to each service is delayed
	chaosWindow     = 50 // seconds over which the operations begin
	chaosAttempts   = 8  // a client's tries at one operation
	chaosPauses     = 2  // per replica
	chaosKills      = 2  // per replica
)

// chaosShape is each node's networking: one port, its VIF a Neutron port.
//
// The services' pace sets the test's: on a busy 2-core machine Neutron's
// one process binds a port in 0.5 to 2 s, and each VIF costs a dozen
// bindings in a run (adoption, rollback, release, repairs); each
// reconciler pass reads every adopted or tombstoned node from Ironic, one
// GET each (power sync, late claims), and every tombstoned port from
// Neutron. With 150 nodes, two replicas and a pass every 2 s the
// reconcilers alone keep both services busy, every call then outlasts its
// timeout, and what times out is sent again (the services still carry out
// what was abandoned): the run never settles. One VIF a node, a pass every
// 5 s and 10 s timeouts keep the services' queues shorter than the
// timeouts, so that only the proxies' delays and the chaos make calls fail.
var chaosShape = ironic.BulkOptions{OnePort: true}

// chaosNode is a node of either Ironic and what it was at setup.
type chaosNode struct {
	ironic.Node
	backend string
	// setup: adopted before the chaos (as server), unmanaged under it.
	setup  bool
	server string
	// ports are every Neutron port the node records; vifs, those a
	// driver reports, which an adoption binds (any other must stay as it
	// was); before is each port's binding at setup, as bindings writes
	// it ("host/vnic").
	ports, vifs []string
	before      map[string]string
	// prior is the node's protection and automated cleaning at setup.
	prior interlockRecord
}

// replica is one [DEFAULT] host: its configuration, and every process
// that has served it (the last one runs).
type replica struct {
	name, conf, url string
	lives           []*host
}

func (r *replica) cur() *host { return r.lives[len(r.lives)-1] }

// chaosEnv is the cloud, the replicas and the nodes of one run.
type chaosEnv struct {
	seed     uint64
	rng      *rand.Rand // the test goroutine's: setup choices, the schedule
	c        *cloud.Cloud
	ironics  map[string]*ironic.Server
	proxies  map[string]*holdproxy.Proxy // east, west, neutron
	db       string
	replicas []*replica
	nodes    []*chaosNode
	byUUID   map[string]*chaosNode
	setupReq map[string]bool // request ids of the setup adoptions
	ops      []*chaosOp
	events   []string // what the chaos did, when
	began    time.Time
}

// TestChaosTwoReplicasTwoBackends is the chaos test.
func TestChaosTwoReplicasTwoBackends(t *testing.T) {
	began := time.Now()
	env := &chaosEnv{seed: chaosSeed(t), began: began, byUUID: map[string]*chaosNode{}, setupReq: map[string]bool{}}
	env.rng = rand.New(rand.NewPCG(env.seed, 0))
	for _, step := range []struct {
		what string
		do   func(*testing.T)
	}{
		{"services started", env.startServices},
		{"nodes enrolled", env.enroll},
		{"nodes varied", env.vary},
		{"setup read", env.readSetup},
		{"replicas started", env.startReplicas},
		{"setup adopted", env.adoptSetup},
	} {
		step.do(t)
		t.Logf("%5.1fs %s", time.Since(began).Seconds(), step.what)
	}
	setupDone := time.Now()
	t.Logf("setup: %d nodes (%d to unmanage) in %s", len(env.nodes), 2*chaosSetupShare, setupDone.Sub(began).Round(time.Second))

	// The chaos: every proxy delays one request in five, the operations
	// run, the replicas are paused and killed.
	rules := map[string]*holdproxy.Rule{}
	for i, name := range []string{"east", "west", "neutron"} {
		rules[name] = env.proxies[name].DelayOneIn("", `.`, chaosOneIn, rand.New(rand.NewPCG(env.seed, uint64(i+1))), chaosDelay)
	}
	env.planOps()
	opsDone := env.runOps()
	env.unleash(t)
	select {
	case <-opsDone:
	case <-time.After(6 * time.Minute):
		t.Fatalf("seed %d: the clients have not all finished 6 minutes after the chaos ended:\n%s", env.seed, env.pendingOps())
	}
	delayed := map[string]string{}
	for name, p := range env.proxies {
		delayed[name] = fmt.Sprintf("%d of %d", p.Chosen(rules[name]), p.Count(rules[name]))
		p.Clear()
	}
	chaosDone := time.Now()
	t.Logf("%5.1fs the clients are done; no more delays", time.Since(began).Seconds())
	t.Logf("operations: %s; requests delayed (east, west, neutron): %s, %s, %s",
		env.answerTally(), delayed["east"], delayed["west"], delayed["neutron"])
	faults, bugs := env.faultTally()
	t.Logf("error answers, most frequent first:\n  %s", faults)
	if bugs > 0 {
		env.keepLogs(t)
	}

	// Quiescence: no intent left, no delayed request still to land.
	pg := openPostgresRO(t, env.db)
	if wrong := settle(4*time.Minute, func() string {
		n, late := countIntents(t, pg), 0
		for name, p := range env.proxies {
			late += p.Holding(rules[name])
		}
		if n > 0 || late > 0 {
			return fmt.Sprintf("%d intents left, %d delayed requests still to land", n, late)
		}
		return ""
	}); wrong != "" {
		env.keepLogs(t)
		t.Fatalf("seed %d: not quiescent 4 minutes after the chaos: %s\nintents:\n%s", env.seed, wrong, dumpIntents(t, pg))
	}
	quiet := time.Now()
	t.Logf("%5.1fs quiescent: no intent left, every delayed request landed", time.Since(began).Seconds())

	// Two reconciler passes, and as many more as a noisy machine needs,
	// until the state is right; then it must stay right two passes more.
	var v verdict
	for deadline := time.Now().Add(3 * time.Minute); ; {
		v = env.judge(t)
		if v.clean() || time.Now().After(deadline) {
			break
		}
		time.Sleep(chaosInterval * time.Second)
	}
	converged := time.Now()
	time.Sleep((2*chaosInterval + 1) * time.Second)
	v = env.judge(t)
	acts := env.checkActions(t, pg, v)
	if !v.clean() || len(acts.wrong) > 0 {
		env.report(t, pg, v, acts)
	}

	t.Logf("seed %d: %d nodes: %d adopted (%d at setup and not released), %d free; stranded %d, wrong bindings %d, wrong interlock %d",
		env.seed, len(env.nodes), v.adopted, v.setupAdopted, v.free, len(v.stranded), v.wrongBindings, v.wrongInterlock)
	t.Logf("actions checked: %d (%d manage, %d unmanage; %d by request ids the clients never heard), %d problems",
		acts.checked, acts.manage, acts.unmanage, acts.unattributed, len(acts.wrong))
	t.Logf("chaos: %s", strings.Join(env.events, "; "))
	t.Logf("times: setup %s, chaos %s, quiescence %s later, the state right %s after that; %s in all",
		setupDone.Sub(began).Round(time.Second), chaosDone.Sub(setupDone).Round(time.Second),
		quiet.Sub(chaosDone).Round(time.Second), converged.Sub(quiet).Round(time.Second), time.Since(began).Round(time.Second))
	if bugs > 0 {
		// Judged last, so that the end state is reported either way: an
		// answer of 500 is a bug whatever the chaos (the bar: every
		// failure is a 4xx or a 503/504 that says what to do).
		t.Errorf("seed %d: %d answers were 500 (listed above with their requests' log lines)", env.seed, bugs)
	}
}

// chaosSeed is MOGAN_CHAOS_SEED, or the clock's; printed either way.
func chaosSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MOGAN_CHAOS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("MOGAN_CHAOS_SEED=%q: %v", s, err)
		}
	}
	t.Logf("chaos seed %d (replay: MOGAN_CHAOS_SEED=%d go test -run '^TestChaosTwoReplicasTwoBackends$' ./host/e2e)", seed, seed)
	return seed
}

// startServices starts the cloud (east's Ironic and Neutron), west's
// Ironic and a proxy in front of each service.
func (env *chaosEnv) startServices(t *testing.T) {
	t.Helper()
	var g errgroup.Group
	g.Go(func() error {
		c, err := cloud.Start(t.Context(), cloud.Options{Dir: t.TempDir(), Neutron: true, DieWithParent: true})
		if c != nil {
			t.Cleanup(c.Stop)
		}
		env.c = c
		return err
	})
	var west *ironic.Server
	g.Go(func() error {
		s, err := ironic.Start(t.Context(), ironic.Options{Dir: t.TempDir(), DieWithParent: true})
		if s != nil {
			t.Cleanup(func() { _ = s.Stop() })
		}
		west = s
		return err
	})
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	env.ironics = map[string]*ironic.Server{"east": env.c.Ironic, "west": west}
	env.proxies = map[string]*holdproxy.Proxy{}
	for name, target := range map[string]string{"east": env.c.Ironic.URL, "west": west.URL, "neutron": env.c.Neutron.URL} {
		p, err := holdproxy.Start(target)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		env.proxies[name] = p
	}
}

// enroll makes chaosPerBackend nodes in each Ironic (bulk-loaded, as
// chaosShape says, their VIFs Neutron ports: east's on the cloud's
// network, west's on one of their own); the first chaosSetupShare of each
// are the ones to unmanage.
func (env *chaosEnv) enroll(t *testing.T) {
	t.Helper()
	westNet, err := env.c.Neutron.CreateTenantNetwork(t.Context(), "west-provisioning")
	if err == nil {
		_, err = env.c.Neutron.CreateSubnet(t.Context(), westNet, "10.22.0.0/16")
	}
	if err != nil {
		t.Fatal(err)
	}
	var east, west []ironic.Node
	var g errgroup.Group
	g.Go(func() (err error) {
		east, err = env.c.BulkEnrollIn(t.Context(), env.ironics["east"], chaosPerBackend, "", chaosShape)
		return err
	})
	g.Go(func() (err error) {
		west, err = env.c.BulkEnrollIn(t.Context(), env.ironics["west"], chaosPerBackend, westNet, chaosShape)
		return err
	})
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for backend, nodes := range map[string][]ironic.Node{"east": east, "west": west} {
		for i, n := range nodes {
			cn := &chaosNode{Node: n, backend: backend, setup: i < chaosSetupShare, vifs: vifsOf(n)}
			for _, p := range n.Ports {
				cn.ports = appendNonEmpty(cn.ports, p.InternalVIF, p.ExtraVIF)
			}
			for _, pg := range n.Portgroups {
				cn.ports = appendNonEmpty(cn.ports, pg.InternalVIF, pg.ExtraVIF)
			}
			env.nodes = append(env.nodes, cn)
			env.byUUID[n.UUID] = cn
		}
	}
	// One order for the seeded choices, whatever the maps' order was.
	slices.SortFunc(env.nodes, func(a, b *chaosNode) int { return strings.Compare(a.backend+a.UUID, b.backend+b.UUID) })
}

func appendNonEmpty(list []string, s ...string) []string {
	for _, v := range s {
		if v != "" {
			list = append(list, v)
		}
	}
	return list
}

// vary gives the nodes the states an owner leaves (seeded): some
// protected with a reason of the owner's, automated cleaning on or off
// for some, and some Neutron ports bound to a compute host already, so
// that "as it was at setup" is more than unbound and unprotected.
func (env *chaosEnv) vary(t *testing.T) {
	t.Helper()
	type patch struct {
		node *chaosNode
		ops  []map[string]any
	}
	var patches []patch
	binds := map[string]string{}
	for _, n := range env.nodes {
		var ops []map[string]any
		if env.rng.IntN(6) == 0 {
			ops = append(ops, map[string]any{"op": "add", "path": "/protected", "value": true},
				map[string]any{"op": "add", "path": "/protected_reason", "value": "held by its owner, ticket " + n.UUID[:8]})
		}
		switch env.rng.IntN(8) {
		case 0:
			ops = append(ops, map[string]any{"op": "add", "path": "/automated_clean", "value": true})
		case 1:
			ops = append(ops, map[string]any{"op": "add", "path": "/automated_clean", "value": false})
		}
		if len(ops) > 0 {
			patches = append(patches, patch{n, ops})
		}
		for _, p := range n.ports {
			if env.rng.IntN(6) == 0 {
				binds[p] = fmt.Sprintf("legacy-compute-%d", env.rng.IntN(3))
			}
		}
	}
	var g errgroup.Group
	g.SetLimit(4)
	for _, p := range patches {
		g.Go(func() error {
			return env.ironics[p.node.backend].Fixture().Request(t.Context(), http.MethodPatch, "/v1/nodes/"+p.node.UUID, p.ops, nil)
		})
	}
	// Neutron's writes one at a time (see enroll), beside Ironic's.
	g.Go(func() error {
		for port, hostID := range binds {
			if _, err := env.c.Neutron.BindPort(t.Context(), port, hostID, "normal"); err != nil {
				return err
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		t.Fatalf("varying the nodes: %v", err)
	}
}

// readSetup records each node's bindings and interlock fields as they are
// before anything adopts it.
func (env *chaosEnv) readSetup(t *testing.T) {
	t.Helper()
	ports := neutronBindings(t, env.c)
	for backend, srv := range env.ironics {
		for id, v := range ironicViews(t, srv.URL) {
			n := env.byUUID[id]
			if n == nil || n.backend != backend {
				continue
			}
			if v.InstanceUUID != nil || v.Extra.Interlock != nil {
				t.Fatalf("node %s is not free at setup: %+v", id, v)
			}
			n.prior = v.prior()
			n.before = map[string]string{}
			for _, p := range n.ports {
				b, ok := ports[p]
				if !ok {
					t.Fatalf("node %s: Neutron port %s is missing at setup", id, p)
				}
				n.before[p] = b
			}
		}
	}
	for _, n := range env.nodes {
		if n.before == nil {
			t.Fatalf("node %s (%s) is not in its Ironic", n.UUID, n.backend)
		}
	}
}

// replicaConfig is replica name's configuration: both backends and Neutron
// through their proxies, short leases, a quick reconciler.
func (env *chaosEnv) replicaConfig(t *testing.T, name string) string {
	t.Helper()
	conf := hostConfig(t, env.db, fmt.Sprintf(`call_timeout = %d

[east]
driver = ironic
url = %s
auth_type = none

[west]
driver = ironic
url = %s
auth_type = none

[neutron]
url = %s
auth_type = none
timeout = %d

[manage]
reconcile_interval = %d
intent_lease = %d
`, chaosTimeout, env.proxies["east"].URL, env.proxies["west"].URL, env.proxies["neutron"].URL, chaosTimeout, chaosInterval, chaosLease))
	return withHost(strings.Replace(conf, "[DEFAULT]\n", "[DEFAULT]\nenabled_backends = east, west\n", 1), name)
}

func (env *chaosEnv) startReplicas(t *testing.T) {
	t.Helper()
	env.db = createDatabase(t)
	for _, name := range []string{"r1", "r2"} {
		r := &replica{name: name, conf: env.replicaConfig(t, name)}
		if name == "r1" {
			dbSync(t, r.conf)
		}
		env.replicas = append(env.replicas, r)
		env.start(t, r)
		r.url = r.cur().URL
	}
}

// start runs a new process of r and waits until it serves. A refusal
// (e.g. its host name still locked by its killed predecessor) fails the
// test: a restart must never be refused.
func (env *chaosEnv) start(t *testing.T, r *replica) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mogan.conf")
	if err := os.WriteFile(path, []byte(r.conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var port string
	for line := range strings.SplitSeq(r.conf, "\n") {
		if v, ok := strings.CutPrefix(line, "port = "); ok {
			port = v
		}
	}
	h := &host{URL: "http://127.0.0.1:" + port, logs: &proctest.Buffer{}, done: make(chan struct{})}
	h.cmd = exec.Command(filepath.Join(binDir, "mogan-api"), "--config-file", path)
	h.cmd.Stdout, h.cmd.Stderr = h.logs, h.logs
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	r.lives = append(r.lives, h)
	// No log dump at the end: a failure reports the relevant lines.
	t.Cleanup(func() {
		_ = h.cmd.Process.Signal(syscall.SIGCONT)
		h.stop(t)
	})
	deadline := time.Now().Add(90 * time.Second)
	for !h.started() {
		select {
		case <-h.done:
			env.keepLogs(t)
			t.Fatalf("seed %d: %s (process %d) exited at start-up; a restart must never be refused:\n%s",
				env.seed, r.name, len(r.lives), lastLines(h.logs.String(), 30))
		default:
		}
		if time.Now().After(deadline) {
			env.keepLogs(t)
			t.Fatalf("seed %d: %s (process %d) did not serve within 90 s:\n%s", env.seed, r.name, len(r.lives), lastLines(h.logs.String(), 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// adoptSetup adopts the nodes to be unmanaged, before the chaos, each
// through either replica, half of them naming their backend. On a busy
// machine a call may outlast its timeout even without the proxies'
// delays: such an adoption is tried again until it is adopted.
func (env *chaosEnv) adoptSetup(t *testing.T) {
	t.Helper()
	var setup []*chaosNode
	for _, n := range env.nodes {
		if n.setup {
			setup = append(setup, n)
		}
	}
	type result struct {
		code       int
		requestIDs []string
		body       string
	}
	results := make([]result, len(setup))
	var g errgroup.Group
	g.SetLimit(4)
	for i, n := range setup {
		backend := ""
		if i%4 < 2 {
			backend = n.backend
		}
		g.Go(func() error {
			r := &results[i]
			for try := 0; ; try++ {
				url := env.replicas[(i+try)%2].url
				code, id, body := postWithID(t, url+"/v1/manageable_servers", adoptBody("setup-"+n.UUID[:8], n.UUID, backend))
				r.code, r.body = code, body
				r.requestIDs = append(r.requestIDs, id)
				if code == http.StatusCreated || try == 9 {
					return nil
				}
				time.Sleep(2 * time.Second)
			}
		})
	}
	_ = g.Wait()
	for i, n := range setup {
		for _, id := range results[i].requestIDs {
			env.setupReq[id] = true
		}
		if results[i].code != http.StatusCreated {
			t.Fatalf("setup: adopting node %s (%s), tried %d times: %d %s", n.UUID, n.backend, len(results[i].requestIDs), results[i].code, results[i].body)
		}
		n.server = serverUUID(t, results[i].body)
	}
	// The starting point is right by the same measure as the end, once
	// what the failed tries left is repaired.
	var v verdict
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		if v = env.judge(t); (v.clean() && v.adopted == len(setup)) || time.Now().After(deadline) {
			break
		}
	}
	if !v.clean() || v.adopted != len(setup) {
		t.Fatalf("setup: %d adopted, want %d; %s", v.adopted, len(setup), v.summary())
	}
}

// unleash pauses each replica past its lease and kills and restarts each,
// chaosPauses and chaosKills times, in a seeded order with seeded gaps.
// It runs on the test's goroutine (a refused restart fails the test).
func (env *chaosEnv) unleash(t *testing.T) {
	t.Helper()
	type event struct {
		kill bool
		r    *replica
	}
	var events []event
	for _, r := range env.replicas {
		for range chaosPauses {
			events = append(events, event{false, r})
		}
		for range chaosKills {
			events = append(events, event{true, r})
		}
	}
	env.rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	for _, e := range events {
		time.Sleep(time.Second + time.Duration(env.rng.IntN(3000))*time.Millisecond)
		at := time.Since(env.began).Seconds()
		h := e.r.cur()
		if !e.kill {
			pause := time.Duration(chaosLease+2)*time.Second + time.Duration(env.rng.IntN(2000))*time.Millisecond
			if err := h.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatalf("SIGSTOP %s: %v", e.r.name, err)
			}
			time.Sleep(pause)
			if err := h.cmd.Process.Signal(syscall.SIGCONT); err != nil {
				t.Fatalf("SIGCONT %s: %v", e.r.name, err)
			}
			env.events = append(env.events, fmt.Sprintf("%.0fs %s paused %.1fs", at, e.r.name, pause.Seconds()))
			t.Logf("%5.1fs %s paused for %.1fs", at, e.r.name, pause.Seconds())
			continue
		}
		h.kill(t)
		killed := time.Now()
		env.start(t, e.r)
		env.events = append(env.events, fmt.Sprintf("%.0fs %s killed, serving again in %.1fs", at, e.r.name, time.Since(killed).Seconds()))
		t.Logf("%5.1fs %s killed, serving again %.1fs later", at, e.r.name, time.Since(killed).Seconds())
	}
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// keepLogs writes every replica process's whole log to a directory that
// outlives the test, and says where (a failure's report quotes only the
// lines about its nodes).
func (env *chaosEnv) keepLogs(t *testing.T) {
	t.Helper()
	dir, err := os.MkdirTemp("", fmt.Sprintf("mogan-chaos-%d-", env.seed))
	if err != nil {
		t.Logf("keeping the logs: %v", err)
		return
	}
	for _, r := range env.replicas {
		for i, h := range r.lives {
			_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.log", r.name, i+1)), []byte(h.logs.String()), 0o600)
		}
	}
	t.Logf("the replicas' whole logs (debug): %s/{r1,r2}-<process>.log", dir)
}
