package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/testenv/glance"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
	"github.com/mogan-manage/mogan-manage/testenv/neutron"
)

// The handoff of issue 18 (DESIGN, "Migration": the source capabilities,
// "The handoff") end to end: two real standalone Ironics, A (the old
// cloud's, the source) and B (the new cloud's, the target), both
// fake-hardware with automated cleaning on, B's Neutron and (where the
// test checks images) Glance, and mogan-api with both Ironics as its
// backends a and b. Both Ironics log every provision-state change and
// power action they take, and the tests read from those logs what each
// node went through. B's fake BMCs read "power on", as a running
// machine's do (ironic.Options.PowerOnAtCreate): a handoff checks that
// the target reads the power state the source had.

// targetStates are the provision states a node may ever enter in the
// target: an enrollment's (manage, then adopt).
var targetStates = []string{"enroll", "verifying", "manageable", "adopting", "active"}

// handoffEnv is the two clouds.
type handoffEnv struct {
	A, B    *ironic.Server
	Neutron *neutron.Neutron
	// Glance is nil unless handoffEnvOptions.glance.
	Glance *glance.Glance
	// Network is the name of B's network, where --network-map puts
	// every port; NetworkID its id.
	Network, NetworkID string
	// Image is an image in B's Glance, where --image-map sends every
	// source image ("" without Glance: images are not checked).
	Image string
}

// handoffEnvOptions say what a test needs besides the two Ironics and
// B's Neutron.
type handoffEnvOptions struct {
	// glance starts B's Glance (the host checks each image there).
	glance bool
	// redfish enables the redfish hardware type in both Ironics, for a
	// source node whose BMC B cannot reach; A's power-state sync is then
	// off, so that nothing reads that BMC in A either.
	redfish bool
}

// startHandoffEnv starts the services at once (each takes seconds),
// creates B's network with a subnet and, with Glance, B's image; all are
// stopped at the end of the test.
func startHandoffEnv(t *testing.T, o handoffEnvOptions) *handoffEnv {
	t.Helper()
	dir := t.TempDir()
	e := &handoffEnv{Network: "target-net"}
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(t.Context())
	started := func(stop func()) {
		mu.Lock()
		defer mu.Unlock()
		t.Cleanup(stop)
	}
	g.Go(func() error {
		s, err := ironic.Start(ctx, ironic.Options{Dir: filepath.Join(dir, "a"), AutomatedClean: true,
			Redfish: o.redfish, NoPowerSync: o.redfish, DieWithParent: true})
		if s != nil {
			e.A = s
			started(func() { _ = s.Stop() })
		}
		return err
	})
	g.Go(func() error {
		s, err := ironic.Start(ctx, ironic.Options{Dir: filepath.Join(dir, "b"), AutomatedClean: true,
			Redfish: o.redfish, PowerOnAtCreate: true, DieWithParent: true})
		if s != nil {
			e.B = s
			started(func() { _ = s.Stop() })
		}
		return err
	})
	g.Go(func() error {
		n, err := neutron.Start(ctx, filepath.Join(dir, "neutron"))
		if n != nil {
			e.Neutron = n
			started(n.Stop)
		}
		return err
	})
	if o.glance {
		g.Go(func() error {
			s, err := glance.Start(ctx, filepath.Join(dir, "glance"))
			if s != nil {
				e.Glance = s
				started(s.Stop)
			}
			return err
		})
	}
	began := time.Now()
	if err := g.Wait(); err != nil {
		t.Fatalf("starting the two clouds: %v", err)
	}
	defer func() { t.Logf("the two clouds started in %s", time.Since(began).Round(100*time.Millisecond)) }()
	var err error
	if e.NetworkID, err = e.Neutron.CreateNetwork(t.Context(), e.Network); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Neutron.CreateSubnet(t.Context(), e.NetworkID, "10.40.0.0/16"); err != nil {
		t.Fatal(err)
	}
	if e.Glance != nil {
		e.Image = uuid.NewString()
		if err := e.Glance.CreateImage(t.Context(), e.Image, "target-image"); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// handoffURLs are where the host reaches A, B and B's Neutron: the
// services or proxies in front of them ("" is the service).
type handoffURLs struct {
	a, b, neutron string
	// timeout is how many seconds the host waits for an answer of either
	// Ironic (each request, and the driver's call_timeout) or Neutron; 0
	// is the default minute. A request a proxy holds until the host is
	// killed must not fail first.
	timeout int
	// neutronTimeout is Neutron's alone, when not 0.
	neutronTimeout int
}

// hostConfig is a host on db ("" a fresh SQLite) whose backends are a
// and b, with B's Neutron (and Glance), its reconciler every second;
// extra is appended, in [manage] until it names another section.
func (e *handoffEnv) hostConfig(t *testing.T, db string, at handoffURLs, extra string) string {
	t.Helper()
	or := func(u, def string) string {
		if u == "" {
			return def
		}
		return u
	}
	timeout, neutronTimeout := 60, at.neutronTimeout
	if at.timeout != 0 {
		timeout = at.timeout
	}
	if neutronTimeout == 0 {
		neutronTimeout = timeout
	}
	backends := fmt.Sprintf(`call_timeout = %[4]d

[a]
driver = ironic
url = %[1]s
auth_type = none
timeout = %[4]d

[b]
driver = ironic
url = %[2]s
auth_type = none
timeout = %[4]d

[neutron]
url = %[3]s
auth_type = none
timeout = %[5]d
`, or(at.a, e.A.URL), or(at.b, e.B.URL), or(at.neutron, e.Neutron.URL), timeout, neutronTimeout)
	if e.Glance != nil {
		backends += fmt.Sprintf("\n[glance]\nurl = %s\nauth_type = none\n", e.Glance.URL)
	}
	conf := hostConfig(t, db, backends+"\n[manage]\nreconcile_interval = 1\n"+extra)
	return strings.Replace(conf, "[DEFAULT]\n", "[DEFAULT]\nenabled_backends = a, b\n", 1)
}

// sourceNodes enrolls n adoptable nodes in A: active, powered on, each
// with three ports and a portgroup whose VIFs name nothing (A's cloud has
// no Neutron the host could read).
func (e *handoffEnv) sourceNodes(t *testing.T, n int) []ironic.Node {
	t.Helper()
	nodes, err := e.A.Fixture().Enroll(t.Context(), ironic.Mix{Adoptable: n})
	if err != nil {
		t.Fatal(err)
	}
	return nodes
}

// bulkSourceNodes adds n adoptable nodes to A as ironic.Fixture.BulkLoad
// does (one enrolled through the API, the others copies of its rows):
// each with two ports and a portgroup, at a fraction of sourceNodes'
// cost.
func (e *handoffEnv) bulkSourceNodes(t *testing.T, n int) []ironic.Node {
	t.Helper()
	nodes, err := e.A.Fixture().BulkLoad(t.Context(), n, ironic.BulkOptions{Portgroup: true})
	if err != nil {
		t.Fatal(err)
	}
	return nodes
}

// outage stops s (A or B) for a test that restarts it; if the test ends
// first (it failed), s is restarted then, for the tests after it.
func outage(t *testing.T, s *ironic.Server) (restart func()) {
	t.Helper()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	down := true
	t.Cleanup(func() {
		if down {
			if err := s.Restart(context.WithoutCancel(t.Context())); err != nil {
				t.Errorf("restarting Ironic at %s: %v", s.URL, err)
			}
		}
	})
	return func() {
		t.Helper()
		if err := s.Restart(t.Context()); err != nil {
			t.Fatalf("restarting Ironic at %s: %v", s.URL, err)
		}
		down = false
	}
}

// startHandoffHost is startHost with more time to start: a host restarted
// after a kill repairs the adoptions it left before it answers, and on a
// loaded machine B's Neutron may take seconds a binding.
func startHandoffHost(t *testing.T, conf string) *host {
	t.Helper()
	h := spawnHost(t, conf, nil)
	t.Cleanup(func() {
		h.stop(t)
		if t.Failed() {
			t.Logf("mogan-api log:\n%s", h.logs)
		}
	})
	const limit = 3 * time.Minute
	for deadline := time.Now().Add(limit); !h.started(); time.Sleep(100 * time.Millisecond) {
		select {
		case <-h.done:
			t.Fatalf("mogan-api exited at start-up:\n%s", h.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mogan-api did not answer in %s:\n%s", limit, h.logs)
		}
	}
	return h
}

// imageMap maps each node's image to B's image (nil without Glance).
func (e *handoffEnv) imageMap(nodes []ironic.Node) map[string]string {
	if e.Image == "" {
		return nil
	}
	out := map[string]string{}
	for _, n := range nodes {
		out[n.ImageSource] = e.Image
	}
	return out
}

// cliMaps are --network-map (every port to B's network) and the
// --image-map of nodes.
func (e *handoffEnv) cliMaps(nodes []ironic.Node) []string {
	args := []string{"--network-map", "*=" + e.Network}
	m := e.imageMap(nodes)
	for _, from := range slices.Sorted(maps.Keys(m)) {
		args = append(args, "--image-map", from+"="+m[from])
	}
	return args
}

// ironicDo sends one request to the Ironic at base at its newest
// microversion and decodes a JSON answer into out (when not nil); it
// returns the status.
func ironicDo(t testing.TB, method, base, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-OpenStack-Ironic-API-Version", "latest")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, base, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s%s: %v\n%s", method, base, path, err, b)
		}
	}
	return resp.StatusCode
}

// nodeRecord is everything Ironic says of a node — the node, its ports
// and its portgroups, every field — less what moves by itself (updated_at,
// a periodic task's reservation) and the links; nil when Ironic does not
// know the node.
func nodeRecord(t testing.TB, base, node string) map[string]any {
	t.Helper()
	var n map[string]any
	switch code := ironicDo(t, http.MethodGet, base, "/v1/nodes/"+node, nil, &n); code {
	case http.StatusNotFound:
		return nil
	case http.StatusOK:
	default:
		t.Fatalf("GET %s/v1/nodes/%s: %d", base, node, code)
	}
	out := withoutNoise(n)
	for _, kind := range []string{"ports", "portgroups"} {
		var list map[string][]map[string]any
		switch code := ironicDo(t, http.MethodGet, base, "/v1/"+kind+"?detail=True&node="+node, nil, &list); code {
		case http.StatusNotFound:
			return nil // deleted since it was read
		case http.StatusOK:
		default:
			t.Fatalf("GET %s/v1/%s of %s: %d", base, kind, node, code)
		}
		items := list[kind]
		sort.Slice(items, func(i, j int) bool { return fmt.Sprint(items[i]["address"]) < fmt.Sprint(items[j]["address"]) })
		var clean []any
		for _, it := range items {
			clean = append(clean, withoutNoise(it))
		}
		out[kind] = clean
	}
	return out
}

// withoutNoise drops updated_at, reservation and every list of links.
func withoutNoise(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k == "updated_at" || k == "reservation" || isLinks(v) {
			continue
		}
		out[k] = v
	}
	return out
}

func isLinks(v any) bool {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return false
	}
	for _, it := range list {
		m, ok := it.(map[string]any)
		if !ok || m["href"] == nil {
			return false
		}
	}
	return true
}

// macsOf are the addresses of a record's ports and portgroups.
func macsOf(record map[string]any) []string {
	var out []string
	for _, kind := range []string{"ports", "portgroups"} {
		list, _ := record[kind].([]any)
		for _, it := range list {
			if m, ok := it.(map[string]any); ok {
				out = append(out, fmt.Sprint(m["address"]))
			}
		}
	}
	return out
}

// targetInventory is everything B holds: its nodes, the MACs of its ports
// and portgroups, and its Neutron's ports.
type targetInventory struct {
	Nodes, MACs, NeutronPorts []string
}

// targetInventory reads what B holds now.
func (e *handoffEnv) targetInventory(t testing.TB) targetInventory {
	t.Helper()
	var inv targetInventory
	var nodes struct {
		Nodes []struct {
			UUID string `json:"uuid"`
		} `json:"nodes"`
	}
	if code := ironicDo(t, http.MethodGet, e.B.URL, "/v1/nodes?fields=uuid&limit=1000", nil, &nodes); code != http.StatusOK {
		t.Fatalf("B's nodes: %d", code)
	}
	for _, n := range nodes.Nodes {
		inv.Nodes = append(inv.Nodes, n.UUID)
	}
	for _, kind := range []string{"ports", "portgroups"} {
		var list map[string][]struct {
			Address string `json:"address"`
		}
		if code := ironicDo(t, http.MethodGet, e.B.URL, "/v1/"+kind+"?fields=address&limit=1000", nil, &list); code != http.StatusOK {
			t.Fatalf("B's %s: %d", kind, code)
		}
		for _, p := range list[kind] {
			inv.MACs = append(inv.MACs, p.Address)
		}
	}
	var ports struct {
		Ports []neutron.Port `json:"ports"`
	}
	if err := e.Neutron.Request(t.Context(), http.MethodGet, "/ports?fields=id&fields=mac_address", nil, &ports); err != nil {
		t.Fatal(err)
	}
	for _, p := range ports.Ports {
		inv.NeutronPorts = append(inv.NeutronPorts, p.ID+" "+p.MAC)
	}
	slices.Sort(inv.Nodes)
	slices.Sort(inv.MACs)
	slices.Sort(inv.NeutronPorts)
	return inv
}

// logMark is what Ironic's log says a node went through so far.
type logMark struct {
	states []string
	power  []ironic.PowerChange
}

// markLog reads node's provision states and power actions from s's log.
func markLog(t testing.TB, s *ironic.Server, node string) logMark {
	t.Helper()
	states, err := s.ProvisionStates(node)
	if err != nil {
		t.Fatal(err)
	}
	power, err := s.PowerChanges(node)
	if err != nil {
		t.Fatal(err)
	}
	return logMark{states: states, power: power}
}

// sourceLogWrong says what A's log records for node since m: nothing is
// the answer (no provision state, no power action).
func (e *handoffEnv) sourceLogWrong(t testing.TB, node string, m logMark) string {
	t.Helper()
	now := markLog(t, e.A, node)
	var wrong []string
	if len(now.states) != len(m.states) {
		wrong = append(wrong, fmt.Sprintf("A's log shows node %s in provision states %v after %v", node, now.states[len(m.states):], m.states))
	}
	if len(now.power) != len(m.power) {
		wrong = append(wrong, fmt.Sprintf("A's log shows power actions %v on node %s", now.power[len(m.power):], node))
	}
	return strings.Join(wrong, "; ")
}

// targetLogWrong says what is wrong with what B's log records for node:
// only an enrollment's states, no power action; and, when active is
// true, it ended active.
func (e *handoffEnv) targetLogWrong(t testing.TB, node string, active bool) string {
	t.Helper()
	m := markLog(t, e.B, node)
	var wrong []string
	for _, st := range m.states {
		if !slices.Contains(targetStates, st) {
			wrong = append(wrong, fmt.Sprintf("B's log shows node %s in provision state %q (states %v)", node, st, m.states))
			break
		}
	}
	if active && (len(m.states) == 0 || m.states[len(m.states)-1] != "active") {
		wrong = append(wrong, fmt.Sprintf("B's log shows node %s going through %v, not ending active", node, m.states))
	}
	if len(m.power) > 0 {
		wrong = append(wrong, fmt.Sprintf("B's log shows power actions %v on node %s", m.power, node))
	}
	return strings.Join(wrong, "; ")
}

// backInA says what is wrong with node being exactly as it was in A
// (before, its nodeRecord then: maintenance off, every field as it was)
// with nothing of it in B: no node, and no port, portgroup or Neutron port
// with one of its MACs that B did not have already (targetBefore, what B
// held before the handoff).
func (e *handoffEnv) backInA(t testing.TB, node string, before map[string]any, targetBefore targetInventory) string {
	t.Helper()
	var wrong []string
	if diff := cmp.Diff(before, nodeRecord(t, e.A.URL, node)); diff != "" {
		wrong = append(wrong, fmt.Sprintf("node %s in A is not as it was (-before +now):\n%s", node, diff))
	}
	if rec := nodeRecord(t, e.B.URL, node); rec != nil {
		wrong = append(wrong, fmt.Sprintf("B has node %s (%v, maintenance %v)", node, rec["provision_state"], rec["maintenance"]))
	}
	inv := e.targetInventory(t)
	count := func(list []string, match func(string) bool) int {
		n := 0
		for _, s := range list {
			if match(s) {
				n++
			}
		}
		return n
	}
	for _, mac := range macsOf(before) {
		is := func(s string) bool { return strings.EqualFold(s, mac) }
		if now, then := count(inv.MACs, is), count(targetBefore.MACs, is); now > then {
			wrong = append(wrong, fmt.Sprintf("B has %d port(s) or portgroup(s) with node %s's MAC %s (%d before)", now, node, mac, then))
		}
		onPort := func(s string) bool { return strings.HasSuffix(strings.ToLower(s), " "+strings.ToLower(mac)) }
		if now, then := count(inv.NeutronPorts, onPort), count(targetBefore.NeutronPorts, onPort); now > then {
			wrong = append(wrong, fmt.Sprintf("B's Neutron has %d port(s) with node %s's MAC %s (%d before)", now, node, mac, then))
		}
	}
	return strings.Join(wrong, "; ")
}

// adoptedInB says what is wrong with node being fully adopted in B: gone
// from A; in B active, out of maintenance, powered on, protected by its
// adoption, its instance_uuid the host's active server of the node; each
// of its ports' VIFs a port of B's Neutron, on B's network, with its MAC,
// bound to it as a baremetal port. It returns the server's uuid.
func (e *handoffEnv) adoptedInB(t testing.TB, hostURL, node string) (string, string) {
	t.Helper()
	var wrong []string
	if rec := nodeRecord(t, e.A.URL, node); rec != nil {
		wrong = append(wrong, fmt.Sprintf("A still has node %s (maintenance %v, reason %v)", node, rec["maintenance"], rec["maintenance_reason"]))
	}
	rec := nodeRecord(t, e.B.URL, node)
	if rec == nil {
		return "", strings.Join(append(wrong, fmt.Sprintf("B has no node %s", node)), "; ")
	}
	srv := serversByNodeTB(t, hostURL)[node]
	for field, want := range map[string]any{
		"provision_state": "active", "maintenance": false, "power_state": "power on", "protected": true,
		"protected_reason": "adopted by mogan-manage server " + srv.UUID, "instance_uuid": srv.UUID, "automated_clean": false,
	} {
		if rec[field] != want {
			wrong = append(wrong, fmt.Sprintf("B's node %s has %s %v, want %v", node, field, rec[field], want))
		}
	}
	if srv.UUID == "" || srv.Status != "active" {
		wrong = append(wrong, fmt.Sprintf("the host's server of node %s is %+v, want an active one", node, srv))
	}
	ports, _ := rec["ports"].([]any)
	if len(ports) == 0 {
		wrong = append(wrong, fmt.Sprintf("B's node %s has no ports", node))
	}
	for _, it := range ports {
		p, _ := it.(map[string]any)
		extra, _ := p["extra"].(map[string]any)
		vif, _ := extra["vif_port_id"].(string)
		np, err := e.Neutron.GetPort(t.Context(), vif)
		switch {
		case err != nil:
			wrong = append(wrong, fmt.Sprintf("B's port %v of node %s: VIF %q: %v", p["address"], node, vif, err))
		case np.NetworkID != e.NetworkID || !strings.EqualFold(np.MAC, fmt.Sprint(p["address"])) || np.HostID != node || np.VNICType != "baremetal":
			wrong = append(wrong, fmt.Sprintf("B's port %v of node %s: Neutron port %+v, want on network %s with its MAC, bound to the node (baremetal)",
				p["address"], node, np, e.NetworkID))
		}
	}
	return srv.UUID, strings.Join(wrong, "; ")
}

// serversByNodeTB is serversByNode for a testing.TB.
func serversByNodeTB(t testing.TB, hostURL string) map[string]serverRow {
	t.Helper()
	code, body := status(t, hostURL+"/v1/servers/detail")
	if code != http.StatusOK {
		t.Fatalf("servers: %d %s", code, body)
	}
	var list struct {
		Servers []serverRow `json:"servers"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]serverRow{}
	for _, s := range list.Servers {
		out[s.NodeUUID] = s
	}
	return out
}

// migrationDoc is a migration as the API shows it.
type migrationDoc struct {
	UUID       string          `json:"uuid"`
	Status     string          `json:"status"`
	NodeUUID   string          `json:"node_uuid"`
	ServerUUID *string         `json:"server_uuid"`
	Error      *string         `json:"error"`
	Steps      []migrationStep `json:"steps"`
}

// migrationStep is one step of a migrationDoc.
type migrationStep struct {
	Name   string  `json:"name"`
	Status string  `json:"status"`
	Error  *string `json:"error"`
}

// hasStep reports whether the migration recorded a step of that name.
func (m migrationDoc) hasStep(name string) bool {
	return slices.ContainsFunc(m.Steps, func(s migrationStep) bool { return s.Name == name })
}

// stepsString is a migration's steps for a message.
func (m migrationDoc) stepsString() string {
	var parts []string
	for _, s := range m.Steps {
		p := s.Name + ":" + s.Status
		if s.Error != nil {
			p += " (" + *s.Error + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// handoffRequest is the body of a handoff of node from a to b, adopted as
// a server named after it, every port on B's network, its image mapped.
func (e *handoffEnv) handoffRequest(n ironic.Node) map[string]any {
	body := map[string]any{
		"source":      map[string]any{"backend": "a", "node_uuid": n.UUID},
		"target":      map[string]any{"backend": "b"},
		"server":      map[string]any{"name": n.Name},
		"network_map": map[string]any{"*": e.Network},
	}
	if m := e.imageMap([]ironic.Node{n}); m != nil {
		body["image_map"] = m
	}
	return body
}

// apiDo sends one JSON request to the host and returns the status and
// body.
func apiDo(t testing.TB, method, url string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// startMigration posts a migration and wants 202.
func startMigration(t testing.TB, hostURL string, body map[string]any) migrationDoc {
	t.Helper()
	code, text := apiDo(t, http.MethodPost, hostURL+"/v1/migrations", body)
	if code != http.StatusAccepted {
		t.Fatalf("POST /v1/migrations: %d %s", code, text)
	}
	var m migrationDoc
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// getMigration reads one migration.
func getMigration(t testing.TB, hostURL, id string) migrationDoc {
	t.Helper()
	code, text := apiDo(t, http.MethodGet, hostURL+"/v1/migrations/"+id, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /v1/migrations/%s: %d %s", id, code, text)
	}
	var m migrationDoc
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// migrationEnded reports whether a status is an end: done, failed or
// rolled back.
func migrationEnded(status string) bool {
	return status == "done" || status == "failed" || status == "rolled_back"
}

// waitMigration polls a migration until it has ended, for at most limit.
func waitMigration(t testing.TB, hostURL, id string, limit time.Duration) migrationDoc {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		m := getMigration(t, hostURL, id)
		if migrationEnded(m.Status) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("migration %s still %s after %s: %s", id, m.Status, limit, m.stepsString())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// handoffRow is one machine of `mogan migrate -f json`.
type handoffRow struct {
	Machine       string         `json:"machine"`
	MigrationUUID *string        `json:"migration_uuid"`
	NodeUUID      *string        `json:"node_uuid"`
	ServerUUID    *string        `json:"server_uuid"`
	Outcome       string         `json:"outcome"`
	Reason        *string        `json:"reason"`
	RequestID     *string        `json:"request_id"`
	Plan          map[string]any `json:"plan"`
}

// runMoganWithin is runMogan with another time limit.
func runMoganWithin(t testing.TB, limit time.Duration, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	cmd := moganCmd(ctx, t, env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	return cliResult{code: exitCode(t, err), stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
}

// migrateRows decodes `mogan migrate -f json`, by machine label.
func migrateRows(t testing.TB, r cliResult) map[string]handoffRow {
	t.Helper()
	var rows []handoffRow
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("mogan migrate -f json: %v\nstdout: %s\nstderr: %s", err, r.stdout, r.stderr)
	}
	out := make(map[string]handoffRow, len(rows))
	for _, row := range rows {
		if _, dup := out[row.Machine]; dup {
			t.Errorf("machine %s twice in the results", row.Machine)
		}
		out[row.Machine] = row
	}
	return out
}

// portInB gives B a node of its own with a port of that MAC, and returns
// the node.
func (e *handoffEnv) portInB(t testing.TB, mac string) string {
	t.Helper()
	owner := uuid.NewString()
	if code := ironicDo(t, http.MethodPost, e.B.URL, "/v1/nodes", map[string]any{"uuid": owner, "driver": "fake-hardware", "name": "owner-of-" + strings.ReplaceAll(mac, ":", "")}, nil); code != http.StatusCreated {
		t.Fatalf("creating B's node: %d", code)
	}
	if code := ironicDo(t, http.MethodPost, e.B.URL, "/v1/ports", map[string]any{"node_uuid": owner, "address": mac}, nil); code != http.StatusCreated {
		t.Fatalf("creating B's port with MAC %s: %d", mac, code)
	}
	return owner
}

// addPort adds to what B holds a node of its own with a port of that MAC
// (portInB's).
func (inv *targetInventory) addPort(node, mac string) {
	inv.Nodes = append(inv.Nodes, node)
	inv.MACs = append(inv.MACs, mac)
	slices.Sort(inv.Nodes)
	slices.Sort(inv.MACs)
}
