package ironicdriver

import (
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
	nodes, err := env.ironic.Fixture().Enroll(t.Context(), ironic.Mix{Adoptable: 24, ResourceClass: rc})
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
			var perPage []int // port and portgroup requests per page
			marker := ""
			for page := 0; page < 100; page++ {
				if fresh {
					d = newTestDriver(t)
					counter = countRequests(d)
				}
				before := counter.paths["/v1/ports"] + counter.paths["/v1/portgroups"]
				got := list(t, d, driver.ListOptions{ResourceClass: rc, Limit: 2, Marker: marker})
				perPage = append(perPage, counter.paths["/v1/ports"]+counter.paths["/v1/portgroups"]-before)
				if len(got) == 0 {
					break
				}
				paged = append(paged, got...)
				marker = got[len(got)-1].UUID
			}
			if diff := cmp.Diff(whole, paged, equateEmpty); diff != "" {
				t.Fatalf("paged listing differs from the whole one (-whole +paged):\n%s", diff)
			}
			// Two adoptable nodes a page hold 6 ports and 2 portgroups: at
			// most 3 pages of 5 ports and 2 of portgroups, up to 3 pages of
			// look-ahead on each stream (the fetchers run ahead of the
			// join), and the marker node's own two lookups. Re-reading from
			// the start would cost some 20 port pages by the last page.
			const limit = 3 + 2 + 2*3 + 2
			// Page 0 starts at the first port of all, before this class's
			// nodes; the pages after it must not grow.
			for k, n := range perPage {
				if k > 0 && n > limit {
					t.Errorf("page %d made %d port and portgroup requests (per page: %v); want at most %d, whatever k", k, n, perPage, limit)
				}
			}
			t.Logf("port and portgroup requests per page: %v", perPage)
			if len(paged) != len(nodes) {
				t.Errorf("paged %d nodes, want %d", len(paged), len(nodes))
			}
		})
	}
}
