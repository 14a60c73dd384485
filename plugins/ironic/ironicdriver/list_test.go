package ironicdriver

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// The adoptable nodes come, whole (ports, portgroups, VIFs, image), through
// the real plugin process; every other kind stays out.
func TestListShowsExactlyTheAdoptableNodes(t *testing.T) {
	d := launch(t)
	got := list(t, d, driver.ListOptions{ResourceClass: listRC})
	var wantNodes []driver.Node
	for _, n := range fixtureOf(t, ironic.KindAdoptable) {
		wantNodes = append(wantNodes, want(n))
	}
	byUUID := func(a, b driver.Node) int { return strings.Compare(a.UUID, b.UUID) }
	slices.SortFunc(got, byUUID)
	slices.SortFunc(wantNodes, byUUID)
	if diff := cmp.Diff(wantNodes, got, equateEmpty); diff != "" {
		t.Errorf("listing (-want +got):\n%s", diff)
	}
}

// Each criterion, both ways: absent from the listing, present with its
// reason when unmanageable nodes are asked for too.
func TestListCriteria(t *testing.T) {
	d := launch(t)
	plain := map[string]bool{}
	for _, n := range list(t, d, driver.ListOptions{}) {
		plain[n.UUID] = true
	}
	all := map[string]driver.Node{}
	for _, n := range list(t, d, driver.ListOptions{IncludeUnmanageable: true}) {
		all[n.UUID] = n
	}
	for _, kind := range []ironic.Kind{
		ironic.KindAssociated, ironic.KindMaintenance,
		ironic.KindAvailable, ironic.KindNoResourceClass, ironic.KindAdoptable,
	} {
		t.Run(string(kind), func(t *testing.T) {
			n := fixtureOf(t, kind)[0]
			if listed := plain[n.UUID]; listed != (kind == ironic.KindAdoptable) {
				t.Errorf("node listed = %v without include_unmanageable", listed)
			}
			if diff := cmp.Diff(want(n), all[n.UUID], equateEmpty); diff != "" {
				t.Errorf("with include_unmanageable (-want +got):\n%s", diff)
			}
		})
	}
}

// countingTransport counts upstream requests by path and records each as
// "METHOD path". With barrier set, each request waits (at most a second)
// until that many are in flight at once: requests sent concurrently then
// overlap for sure, while sequential ones never do.
type countingTransport struct {
	next    http.RoundTripper
	barrier int

	mu       sync.Mutex
	paths    map[string]int
	requests []string
	inFlight int
	maxSeen  int
	released chan struct{}
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.paths[r.URL.Path]++
	c.requests = append(c.requests, r.Method+" "+r.URL.Path)
	c.inFlight++
	c.maxSeen = max(c.maxSeen, c.inFlight)
	if c.barrier > 0 && c.inFlight >= c.barrier {
		select {
		case <-c.released:
		default:
			close(c.released)
		}
	}
	c.mu.Unlock()
	if c.barrier > 0 {
		select {
		case <-c.released:
		case <-time.After(time.Second):
		case <-r.Context().Done():
		}
	}
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	return c.next.RoundTrip(r)
}

// calls returns the requests made so far.
func (c *countingTransport) calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.requests)
}

// maxInFlight is the most requests that were in flight at once.
func (c *countingTransport) maxInFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxSeen
}

func countRequests(d *Driver) *countingTransport {
	c := &countingTransport{paths: map[string]int{}, released: make(chan struct{})}
	d.wrapTransport = func(next http.RoundTripper) http.RoundTripper { c.next = next; return c }
	return c
}

// More nodes than one Ironic page: every one comes, with a request per
// page and none per node.
func TestListFollowsPages(t *testing.T) {
	d := newTestDriver(t)
	counter := countRequests(d)
	got := list(t, d, driver.ListOptions{ResourceClass: listRC})
	adoptable := len(fixtureOf(t, ironic.KindAdoptable))
	if len(got) != adoptable {
		t.Errorf("listed %d nodes, want %d", len(got), adoptable)
	}
	// Ironic answers a "next" link after every full page: pages = n/limit+1.
	wantNodeRequests := adoptable/pageLimit + 1
	if diff := cmp.Diff(map[string]int{"/v1/nodes": wantNodeRequests}, map[string]int{"/v1/nodes": counter.paths["/v1/nodes"]}); diff != "" {
		t.Errorf("node list requests (-want +got):\n%s", diff)
	}
	for path := range counter.paths {
		if strings.Count(path, "/") > 2 {
			t.Errorf("a per-node request: %s", path)
		}
	}
}

func TestListLimitAndMarker(t *testing.T) {
	d := newTestDriver(t)
	full := uuids(list(t, d, driver.ListOptions{ResourceClass: listRC}))
	if len(full) < 9 {
		t.Fatalf("fixture too small: %d nodes", len(full))
	}
	tests := map[string]struct {
		opts driver.ListOptions
		want []string
	}{
		"limit":               {driver.ListOptions{ResourceClass: listRC, Limit: 3}, full[:3]},
		"limit over a page":   {driver.ListOptions{ResourceClass: listRC, Limit: pageLimit + 2}, full[:pageLimit+2]},
		"marker":              {driver.ListOptions{ResourceClass: listRC, Marker: full[3]}, full[4:]},
		"marker and limit":    {driver.ListOptions{ResourceClass: listRC, Marker: full[3], Limit: 4}, full[4:8]},
		"marker at the end":   {driver.ListOptions{ResourceClass: listRC, Marker: full[len(full)-1]}, nil},
		"other class":         {driver.ListOptions{ResourceClass: "no-such-class"}, nil},
		"limit larger than n": {driver.ListOptions{ResourceClass: listRC, Limit: 1000}, full},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, uuids(list(t, d, tc.opts))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("unknown marker", func(t *testing.T) {
		err := d.ListManageableNodes(t.Context(), driver.ListOptions{Marker: uuid.NewString()}, func(driver.Node) error { return nil })
		if !errors.Is(err, driver.ErrInvalidArgument) {
			t.Errorf("err = %v, want ErrInvalidArgument", err)
		}
	})
}

func TestListStopsWhenSendFails(t *testing.T) {
	d := newTestDriver(t)
	stop := errors.New("client went away")
	calls := 0
	err := d.ListManageableNodes(t.Context(), driver.ListOptions{}, func(driver.Node) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("err = %v after %d sends, want %v after 1", err, calls, stop)
	}
}

func uuids(nodes []driver.Node) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.UUID)
	}
	return out
}

// equateEmpty: nil and empty port lists are the same (gRPC makes one of
// the other).
var equateEmpty = cmpopts.EquateEmpty()
