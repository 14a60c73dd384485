package ironicbench

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/ironicdriver"
	"github.com/mogan-manage/mogan-manage/shared/driver"
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
