package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/testenv/cloud"
	"github.com/mogan-manage/mogan-manage/testenv/holdproxy"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// TestKillMatrix is the SIGKILL matrix of an adoption against real
// Ironic, Glance and Neutron, with two backends (issue 16 §4): east (the
// cloud's Ironic) and west (a second Ironic sharing the cloud's Glance and
// Neutron). At each point one adoption on each backend is in flight at
// once, both held at the same step, before or after its service acted;
// the host is killed, restarted, and both nodes checked adopted or
// untouched, with every Neutron port bound to its node or back as it was,
// and Ironic's protection and automated cleaning as the interlock wants
// them, by the time the restarted host answers. Then the adopted ones are
// unmanaged, and each node is exactly as it was: its bindings, its
// protection (east's nodes are protected by their owner, with a reason,
// and cleaned automatically; west's are neither) and no interlock record.
func TestKillMatrix(t *testing.T) {
	type point struct {
		service     string // "ironic" or "neutron": whose request is held
		method      string
		path        string
		phase       holdproxy.Phase
		wantAdopted bool
	}
	points := map[string]point{
		"plan: reading the node, before Ironic answered": {"ironic", http.MethodGet, `^/v1/nodes/[^/]+$`, holdproxy.BeforeForward, false},
		"plan: reading the node, after Ironic answered":  {"ironic", http.MethodGet, `^/v1/nodes/[^/]+$`, holdproxy.AfterForward, false},
		"plan: looking the ports up in Neutron":          {"neutron", http.MethodGet, `/ports`, holdproxy.AfterForward, false},
		"bind: before Neutron acted":                     {"neutron", http.MethodPut, `/ports/`, holdproxy.BeforeForward, false},
		"bind: after Neutron acted":                      {"neutron", http.MethodPut, `/ports/`, holdproxy.AfterForward, false},
		"manage: before Ironic acted":                    {"ironic", http.MethodPatch, `^/v1/nodes/`, holdproxy.BeforeForward, false},
		"manage: after Ironic acted":                     {"ironic", http.MethodPatch, `^/v1/nodes/`, holdproxy.AfterForward, true},
	}
	c, west, nodes := startTwoBackendCloud(t, len(points))
	ironics := map[string]*ironic.Server{"east": c.Ironic, "west": west}
	i := 0
	for name, p := range points {
		pair := []matrixNode{{nodes["east"][i], "east"}, {nodes["west"][i], "west"}}
		i++
		t.Run(name, func(t *testing.T) {
			// A proxy in front of the held service: one per Ironic, or
			// Neutron's one, holding both adoptions' requests.
			urls := map[string]string{"east": c.Ironic.URL, "west": west.URL, "neutron": c.Neutron.URL}
			proxied := []string{"east", "west"}
			if p.service == "neutron" {
				proxied = []string{"neutron"}
			}
			proxies := map[string]*holdproxy.Proxy{}
			rules := map[string]*holdproxy.Rule{}
			for _, svc := range proxied {
				proxy, err := holdproxy.Start(urls[svc])
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(proxy.Close)
				proxies[svc], urls[svc] = proxy, proxy.URL
			}
			before := map[string]map[string]string{}
			prior := map[string]interlockRecord{}
			for _, n := range pair {
				before[n.UUID] = bindings(t, c, vifsOf(n.Node))
				prior[n.UUID] = ironicViewOf(t, ironics[n.backend].URL, n.UUID).prior()
			}
			dbPath := filepath.Join(t.TempDir(), "mogan.sqlite")
			db := "sqlite://" + dbPath
			conf := func(eastAt, westAt, neutronAt string) string {
				return twoBackendConfig(t, db, c, eastAt, westAt, neutronAt)
			}
			h := startHost(t, conf(urls["east"], urls["west"], urls["neutron"]))
			for svc, proxy := range proxies {
				rules[svc] = proxy.Hold(p.method, p.path, p.phase)
			}
			// Both adoptions at the held step: each Ironic's proxy holds
			// its own, Neutron's holds both.
			bothHeld := func() bool {
				held := 0
				for svc, proxy := range proxies {
					held += proxy.Holding(rules[svc])
				}
				return held >= len(pair)
			}
			killMidSteps(t, h, proxies, bothHeld, pair)
			unfinished := intentServers(t, dbPath)
			if len(unfinished) != len(pair) {
				t.Fatalf("intents left by the killed host: %v; want one per adoption (%d)", unfinished, len(pair))
			}

			h2 := startHost(t, conf(c.Ironic.URL, west.URL, c.Neutron.URL))
			servers := serversByNode(t, h2.URL)
			for _, n := range pair {
				bad, adopted := broken(t, h2.URL, ironics[n.backend].URL, []ironic.Node{n.Node})
				if len(bad) > 0 || (adopted == 1) != p.wantAdopted {
					t.Fatalf("after the restart, node %s (%s): adopted %d (want %v), broken %v\n%s", n.UUID, n.backend, adopted, p.wantAdopted, bad, h2.logs)
				}
				if got, want := bindings(t, c, vifsOf(n.Node)), wantBindings(n, before[n.UUID], p.wantAdopted); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("node %s (%s): bindings after the repair = %v, want %v", n.UUID, n.backend, got, want)
				}
				if wrong := interlockWrong(ironicViewOf(t, ironics[n.backend].URL, n.UUID), prior[n.UUID], p.wantAdopted); wrong != "" {
					t.Errorf("node %s (%s) after the repair: %s", n.UUID, n.backend, wrong)
				}
			}
			for _, s := range unfinished {
				checkRepairAction(t, h2.URL, s, p.wantAdopted)
			}

			// Released, each node is exactly as it was.
			for _, n := range pair {
				if srv, ok := servers[n.UUID]; ok {
					if code, body := post(t, h2.URL+"/v1/servers/"+srv.UUID+"/unmanage", ""); code != http.StatusNoContent {
						t.Fatalf("unmanage %s (node %s, %s): %d %s", srv.UUID, n.UUID, n.backend, code, body)
					}
				}
				if srv, ok := serversByNode(t, h2.URL)[n.UUID]; ok {
					t.Errorf("node %s (%s) released: still has server %+v", n.UUID, n.backend, srv)
				}
				if got := bindings(t, c, vifsOf(n.Node)); fmt.Sprint(got) != fmt.Sprint(before[n.UUID]) {
					t.Errorf("node %s (%s) released: bindings %v, want them as before the adoption: %v", n.UUID, n.backend, got, before[n.UUID])
				}
				// Its own Ironic's node: no instance, protection and
				// automated cleaning as they were, no interlock record.
				view := ironicViewOf(t, ironics[n.backend].URL, n.UUID)
				if wrong := interlockWrong(view, prior[n.UUID], false); wrong != "" || deref(view.InstanceUUID) != "" {
					t.Errorf("node %s (%s) released: Ironic says %s; want no instance and %s", n.UUID, n.backend, view, prior[n.UUID])
				}
			}
		})
	}
}

// matrixNode is a node of one backend.
type matrixNode struct {
	ironic.Node
	backend string
}

// startTwoBackendCloud starts the cloud (east's Ironic, Glance and
// Neutron) and west's Ironic at once, and enrolls n adoptable nodes in
// each, their images in Glance and their VIFs in Neutron. east's nodes
// are protected by their owner, with a reason, and cleaned automatically;
// west's are left as the fixture makes them.
func startTwoBackendCloud(t *testing.T, n int) (*cloud.Cloud, *ironic.Server, map[string][]ironic.Node) {
	t.Helper()
	var (
		c    *cloud.Cloud
		west *ironic.Server
		g    errgroup.Group
	)
	g.Go(func() (err error) {
		c, err = cloud.Start(t.Context(), cloud.Options{Dir: t.TempDir(), Glance: true, Neutron: true, DieWithParent: true})
		if c != nil {
			t.Cleanup(c.Stop)
		}
		return err
	})
	g.Go(func() (err error) {
		west, err = ironic.Start(t.Context(), ironic.Options{Dir: t.TempDir(), DieWithParent: true})
		if west != nil {
			t.Cleanup(func() { _ = west.Stop() })
		}
		return err
	})
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	nodes := map[string][]ironic.Node{}
	var mu sync.Mutex
	for name, srv := range map[string]*ironic.Server{"east": c.Ironic, "west": west} {
		g.Go(func() error {
			got, err := c.EnrollIn(t.Context(), srv, ironic.Mix{Adoptable: n})
			mu.Lock()
			defer mu.Unlock()
			nodes[name] = got
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	owned := []map[string]any{
		{"op": "add", "path": "/protected", "value": true},
		{"op": "add", "path": "/protected_reason", "value": "held by its owner"},
		{"op": "add", "path": "/automated_clean", "value": true},
	}
	for _, node := range nodes["east"] {
		if err := c.Ironic.Fixture().Request(t.Context(), http.MethodPatch, "/v1/nodes/"+node.UUID, owned, nil); err != nil {
			t.Fatal(err)
		}
	}
	return c, west, nodes
}

// twoBackendConfig is a host whose backends east and west are the
// Ironics at eastURL and westURL, with c's Glance and the Neutron at
// neutronURL.
func twoBackendConfig(t *testing.T, db string, c *cloud.Cloud, eastURL, westURL, neutronURL string) string {
	t.Helper()
	conf := hostConfig(t, db, fmt.Sprintf(`call_timeout = 60

[east]
driver = ironic
url = %s
auth_type = none

[west]
driver = ironic
url = %s
auth_type = none

[glance]
url = %s
auth_type = none

[neutron]
url = %s
auth_type = none
`, eastURL, westURL, c.Glance.URL, neutronURL))
	return strings.Replace(conf, "[DEFAULT]\n", "[DEFAULT]\nenabled_backends = east, west\n", 1)
}

// ironicViewOf reads one node's interlock fields from Ironic directly.
func ironicViewOf(t *testing.T, ironicURL, node string) ironicNodeView {
	t.Helper()
	var v ironicNodeView
	ironicGet(t, ironicURL, "/v1/nodes/"+node+"?fields=uuid,instance_uuid,protected,protected_reason,automated_clean,extra", &v)
	return v
}

// wantBindings is each VIF of n bound to it (adopted), or as before.
func wantBindings(n matrixNode, before map[string]string, adopted bool) map[string]string {
	if !adopted {
		return before
	}
	return boundTo(vifsOf(n.Node), n.UUID)
}

// killMidSteps adopts each node of pair through h, naming its backend,
// and SIGKILLs h once held says every adoption is at the held step; then
// closes the proxies (what they held before the service never reaches it)
// and waits for the orphaned requests to end.
func killMidSteps(t *testing.T, h *host, proxies map[string]*holdproxy.Proxy, held func() bool, pair []matrixNode) {
	t.Helper()
	var wg sync.WaitGroup
	for _, n := range pair {
		adoptNamedAsync(h.URL, n, &wg)
	}
	for deadline := time.Now().Add(60 * time.Second); !held(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the adoptions never all reached the held step:\n%s", h.logs)
		}
	}
	h.kill(t)
	for _, p := range proxies {
		p.Close()
	}
	wg.Wait()
}

// adoptNamedAsync posts the adoption of n on its backend and ignores its
// outcome (the host dies).
func adoptNamedAsync(url string, n matrixNode, wg *sync.WaitGroup) {
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/manageable_servers",
			strings.NewReader(adoptBody("n", n.UUID, n.backend)))
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
		}
	})
}
