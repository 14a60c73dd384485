package ironicbench

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/ironicdriver"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/testenv/clienttest"
	"github.com/mogan-manage/mogan-manage/testenv/cloud"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// ironicMaxLimit is Ironic's default [api] max_limit, the harness's too.
const ironicMaxLimit = 1000

// countingProxy sits between the driver and Ironic and counts requests by
// path.
func countingProxy(t *testing.T) (string, func() map[string]int) {
	target, err := url.Parse(env.ironic.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	counts := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		counts[r.URL.Path]++
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(counts)
	}
}

// Listing N nodes costs O(pages) requests: per resource, one per full
// page of max_limit items plus the last one — never one per node.
func TestCountUpstreamRequests(t *testing.T) {
	proxyURL, counts := countingProxy(t)
	d := ironicdriver.New(nil)
	if err := d.Configure(t.Context(), map[string]string{"url": proxyURL}); err != nil {
		t.Fatal(err)
	}
	var got int
	err := d.(driver.Discoverer).ListManageableNodes(t.Context(), driver.ListOptions{}, func(driver.Node) error { got++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if got != env.nodes {
		t.Fatalf("listed %d nodes, want %d", got, env.nodes)
	}
	pages := func(items int) int { return items/ironicMaxLimit + 1 }
	ports, portgroups := 0, 0
	for _, n := range env.enrolled {
		ports, portgroups = ports+len(n.Ports), portgroups+len(n.Portgroups)
	}
	want := map[string]int{
		"/v1/nodes":      pages(env.nodes),
		"/v1/ports":      pages(ports),
		"/v1/portgroups": pages(portgroups),
	}
	c := counts()
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("upstream requests (-want +got):\n%s", diff)
	}
	total := 0
	for _, n := range c {
		total += n
	}
	t.Logf("listing %d nodes (%d ports, %d portgroups) took %d upstream requests: %v", env.nodes, ports, portgroups, total, c)
}

// TestCountRequestsThroughTheHost: 1,000 bulk-loaded nodes (2 ports and a
// portgroup each) behind an Ironic whose max_limit is 100, listed through
// mogan-api with Glance and Neutron configured — whole, and paged by a
// client with limit=250 following the next links. Counting proxies in
// front of the three services show, per listing and per host page: the
// Ironic requests are O(pages) — per stream, the pages its items fill
// and one more (the last, or a lookup of the page's last node), and no
// request per node; Glance and Neutron are asked in the host's batches
// (50 ids a request, per chunk of 200 nodes), never once per node, and
// asked at all.
func TestCountRequestsThroughTheHost(t *testing.T) {
	const (
		n          = 1000
		ironicPage = 100 // Ironic's max_limit
		vifs       = 3   // per node: its two ports' and its portgroup's
	)
	ctx := t.Context()
	// Build while the services start.
	bin, built := t.TempDir(), make(chan error, 1)
	go func() { built <- buildHost(ctx, bin) }()
	c, err := cloud.Start(ctx, cloud.Options{Dir: t.TempDir(), Glance: true, Neutron: true, IronicMaxLimit: ironicPage, DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ironic.Fixture().BulkLoad(ctx, n, ironic.BulkOptions{Portgroup: true}); err != nil {
		t.Fatal(err)
	}
	ironicProxy := clienttest.NewProxy(t, c.Ironic.URL)
	glanceProxy := clienttest.NewProxy(t, c.Glance.URL)
	neutronProxy := clienttest.NewProxy(t, c.Neutron.URL)
	h, err := StartHost(ctx, HostConfig{
		Bin: bin, Dir: t.TempDir(), IronicURL: ironicProxy.URL, GlanceURL: glanceProxy.URL, NeutronURL: neutronProxy.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Stop(); err != nil {
			t.Error(err)
		}
	})
	// The host's checks at start are not the listing's.
	ironicProxy.Take()
	glanceProxy.Take()
	neutronProxy.Take()

	ceil := func(a, b int) int { return (a + b - 1) / b }
	for _, limit := range []int{0, 250} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			next := h.URL + "/v1/manageable_servers"
			if limit > 0 {
				next += "?limit=" + strconv.Itoa(limit)
			}
			hc := &http.Client{}
			listed, total := 0, map[string]int{}
			for page := 0; next != ""; page++ {
				got, link, err := h.List(ctx, hc, next)
				if err != nil {
					t.Fatal(err)
				}
				listed, next = listed+got, link
				counts := map[string]int{}
				for _, u := range ironicProxy.Take() {
					kind := u.Path
					if u.Query().Has("node") {
						kind += "?node=" // a lookup of one node's ports or portgroups
					} else if strings.Count(u.Path, "/") > 2 {
						t.Errorf("page %d: a request per node: %s", page, u)
					}
					counts[kind]++
				}
				counts["glance"] = len(glanceProxy.Take())
				counts["neutron"] = len(neutronProxy.Take())
				for k, v := range counts {
					total[k] += v
				}
				// What this page's nodes need, read once, and one more
				// request per stream; lookups: the marker node's (a new
				// process) and the page's last node's.
				chunks := ceil(got, 200)
				bound := map[string]int{
					"/v1/nodes":            ceil(got, ironicPage) + 1,
					"/v1/ports":            ceil(2*got, ironicPage) + 1,
					"/v1/portgroups":       ceil(got, ironicPage) + 1,
					"/v1/ports?node=":      2,
					"/v1/portgroups?node=": 2,
					"glance":               ceil(got, 50) + chunks,
					"neutron":              ceil(vifs*got, 50) + chunks,
				}
				for k, v := range counts {
					if b, ok := bound[k]; !ok || v > b {
						t.Errorf("page %d (%d nodes): %d requests to %s, want at most %d (page: %v)", page, got, v, k, b, counts)
					}
				}
				if got > 0 && (counts["glance"] == 0 || counts["neutron"] == 0) {
					t.Errorf("page %d (%d nodes): no Glance or Neutron lookup (%v): the enrichment is off", page, got, counts)
				}
				t.Logf("page %d: %d nodes, requests %v", page, got, counts)
			}
			if listed != n {
				t.Errorf("listed %d nodes, want %d", listed, n)
			}
			t.Logf("listing %d nodes, limit %d: requests %v", n, limit, total)
		})
	}
}

// buildHost builds mogan-api and the Ironic driver plugin into bin.
func buildHost(ctx context.Context, bin string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin+"/",
		"github.com/mogan-manage/mogan-manage/host/cmd/mogan-api",
		"github.com/mogan-manage/mogan-manage/plugins/ironic/cmd/mogan-driver-ironic")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building mogan-api and the plugin: %w\n%s", err, out)
	}
	return nil
}
