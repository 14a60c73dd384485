package ironicdriver

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// TestPagedListingResumesPorts: paging through the listing (limit 2,
// following the marker) gives the same nodes, ports and portgroups as one
// listing, and each page reads the ports and portgroups from where the
// previous page stopped: the requests of page k do not grow with k (before
// the resume, page k re-read every port of the pages before it). It holds
// for a driver that remembers the previous page (the same plugin process)
// and for one that does not (another process: it looks the marker node's
// last port and portgroup up).
func TestPagedListingResumesPorts(t *testing.T) {
	// Nodes of their own class, enrolled after the package's fixture, so
	// that re-reading from the start would cost many pages by the end.
	const rc = "paging"
	nodes, err := ironicEnv(t).ironic.Fixture().Enroll(t.Context(), ironic.Mix{Adoptable: 24, ResourceClass: rc})
	if err != nil {
		t.Fatal(err)
	}
	whole := list(t, newTestDriver(t), driver.ListOptions{ResourceClass: rc})
	for _, fresh := range []bool{false, true} {
		name := "same process"
		if fresh {
			name = "a new process for every page"
		}
		t.Run(name, func(t *testing.T) {
			d := newTestDriver(t)
			counter := countRequests(d)
			var paged []driver.Node
			var perPage, nodesPerPage []int // port and portgroup requests, node requests per page
			marker := ""
			for page := 0; page < 100; page++ {
				if fresh {
					d = newTestDriver(t)
					counter = countRequests(d)
				}
				before := counter.paths["/v1/ports"] + counter.paths["/v1/portgroups"]
				beforeNodes := counter.paths["/v1/nodes"]
				got := list(t, d, driver.ListOptions{ResourceClass: rc, Limit: 2, Marker: marker})
				perPage = append(perPage, counter.paths["/v1/ports"]+counter.paths["/v1/portgroups"]-before)
				nodesPerPage = append(nodesPerPage, counter.paths["/v1/nodes"]-beforeNodes)
				if len(got) == 0 {
					break
				}
				paged = append(paged, got...)
				marker = got[len(got)-1].UUID
			}
			if diff := cmp.Diff(whole, paged, equateEmpty); diff != "" {
				t.Fatalf("paged listing differs from the whole one (-whole +paged):\n%s", diff)
			}
			// Two adoptable nodes a page hold 6 ports and 2 portgroups:
			// at most 3 pages of 5 ports (or 2 and a lookup of the page's
			// last node) and 2 of portgroups; a new process adds the
			// marker node's two lookups. Nothing is read ahead of the
			// page (before, the fetchers ran up to 3 pages ahead on each
			// stream: up to 13), and re-reading from the start would cost
			// some 20 port pages by the last page.
			limit := 3 + 2
			if fresh {
				limit += 2
			}
			// Page 0 starts at the first port of all, before this class's
			// nodes; the pages after it must not grow.
			for k, n := range perPage {
				if k > 0 && n > limit {
					t.Errorf("page %d made %d port and portgroup requests (per page: %v); want at most %d, whatever k", k, n, perPage, limit)
				}
			}
			// Two nodes are less than Ironic's page of 5: one node request
			// a page, the limit's worth, none past it.
			for k, n := range nodesPerPage {
				if n != 1 {
					t.Errorf("page %d made %d node requests (per page: %v); want 1", k, n, nodesPerPage)
				}
			}
			t.Logf("port and portgroup requests per page: %v", perPage)
			if len(paged) != len(nodes) {
				t.Errorf("paged %d nodes, want %d", len(paged), len(nodes))
			}
		})
	}
}

// TestPagedListingSeesChangesBetweenPages: nodes and ports added, deleted
// or changed between two pages of a paged listing. The first page is as
// Ironic was; the pages after it are exactly what a whole listing made
// after the change holds past the marker: a port added to a later node
// shows, one added to a node already served does not (its page is
// gone), a deleted port or a node put in maintenance is gone, a new node
// comes at the end, and a deleted resume point (the marker node's last
// port) makes the port stream read from the start rather than skip or
// fail. For the same process (resume point remembered) and a new one
// (looked up).
func TestPagedListingSeesChangesBetweenPages(t *testing.T) {
	type change func(t *testing.T, rc string, nodes []driver.Node)
	addPort := func(node int) change {
		return func(t *testing.T, _ string, nodes []driver.Node) {
			body := map[string]any{"node_uuid": nodes[node].UUID, "address": fmt.Sprintf("52:54:00:%02x:%02x:%02x", rand.IntN(256), rand.IntN(256), rand.IntN(256))}
			if err := ironicEnv(t).ironic.Fixture().Request(t.Context(), "POST", "/v1/ports", body, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The last port: the one whose VIF is in extra (Ironic refuses to
	// delete one with a tenant VIF in internal_info).
	deletePort := func(node int) change {
		return func(t *testing.T, _ string, nodes []driver.Node) {
			ps := nodes[node].Ports
			if err := ironicEnv(t).ironic.Fixture().Request(t.Context(), "DELETE", "/v1/ports/"+ps[len(ps)-1].UUID, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		change change
		fresh  []bool // same process, a new one for every page
	}{
		{"a port added to a later node", addPort(4), []bool{false, true}},
		{"a port added to a served node", addPort(0), []bool{false}},
		{"a later node's port deleted", deletePort(4), []bool{false}},
		{"the resume point deleted", deletePort(1), []bool{false, true}},
		{"a later node put in maintenance", func(t *testing.T, _ string, nodes []driver.Node) {
			if err := ironicEnv(t).ironic.Fixture().Request(t.Context(), "PUT", "/v1/nodes/"+nodes[3].UUID+"/maintenance", map[string]string{"reason": "test"}, nil); err != nil {
				t.Fatal(err)
			}
		}, []bool{false}},
		{"a node enrolled", func(t *testing.T, rc string, _ []driver.Node) {
			if _, err := ironicEnv(t).ironic.Fixture().BulkLoad(t.Context(), 1, ironic.BulkOptions{ResourceClass: rc, Portgroup: true}); err != nil {
				t.Fatal(err)
			}
		}, []bool{false}},
	}
	i := 0
	for _, tc := range tests {
		for _, fresh := range tc.fresh {
			i++
			rc := fmt.Sprintf("change-%d", i)
			t.Run(fmt.Sprintf("%s/new process %v", tc.name, fresh), func(t *testing.T) {
				// Bulk-loaded: 2 ports and a portgroup each, in seconds.
				if _, err := ironicEnv(t).ironic.Fixture().BulkLoad(t.Context(), 6, ironic.BulkOptions{ResourceClass: rc, Portgroup: true}); err != nil {
					t.Fatal(err)
				}
				d := newTestDriver(t)
				before := list(t, d, driver.ListOptions{ResourceClass: rc})
				first := list(t, d, driver.ListOptions{ResourceClass: rc, Limit: 2})
				if diff := cmp.Diff(before[:2], first, equateEmpty); diff != "" {
					t.Fatalf("first page (-whole +page):\n%s", diff)
				}
				tc.change(t, rc, before)
				var rest []driver.Node
				marker := first[len(first)-1].UUID
				for range 100 {
					if fresh {
						d = newTestDriver(t)
					}
					got := list(t, d, driver.ListOptions{ResourceClass: rc, Limit: 2, Marker: marker})
					if len(got) == 0 {
						break
					}
					rest = append(rest, got...)
					marker = got[len(got)-1].UUID
				}
				after := list(t, newTestDriver(t), driver.ListOptions{ResourceClass: rc})
				at := slices.IndexFunc(after, func(n driver.Node) bool { return n.UUID == first[len(first)-1].UUID })
				if diff := cmp.Diff(after[at+1:], rest, equateEmpty); diff != "" {
					t.Errorf("pages after the change (-whole listing after it +paged):\n%s", diff)
				}
			})
		}
	}
}
