package ironicdriver

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// fakeDriver is a driver on the fake Ironic.
func fakeDriver(t *testing.T, url string) *Driver {
	t.Helper()
	d := newDriver(nil)
	if err := d.Configure(t.Context(), map[string]string{"url": url}); err != nil {
		t.Fatal(err)
	}
	return d
}

// listPage lists one page and describes its nodes.
func listPage(t *testing.T, d *Driver, limit int, marker string) ([]string, string) {
	t.Helper()
	var out []string
	last := ""
	err := d.ListManageableNodes(t.Context(), driver.ListOptions{Limit: limit, Marker: marker}, func(n driver.Node) error {
		var ps, pgs []string
		for _, p := range n.Ports {
			ps = append(ps, p.UUID)
		}
		for _, pg := range n.Portgroups {
			pgs = append(pgs, pg.UUID)
		}
		slices.Sort(ps)
		slices.Sort(pgs)
		out = append(out, describeNode(n.UUID, ps, pgs))
		last = n.UUID
		return nil
	})
	if err != nil {
		t.Fatalf("ListManageableNodes(limit %d, marker %q): %v", limit, marker, err)
	}
	return out, last
}

// A paged listing reads, per page, the Ironic pages its nodes fill and no
// more: no read-ahead past the limit, no page re-read from the start, no
// request per node — whatever the fleet's shape. Offline, on the fake
// Ironic (max_limit 10), pages of 10 nodes.
func TestUnitListingReadsWhatThePageNeeds(t *testing.T) {
	type shape func(i int) (ports, pgs int, maintenance bool)
	tests := map[string]struct {
		shape shape
		// most requests of each kind a page with nodes makes
		most map[string]int
	}{
		// Each page's 10 nodes fill exactly 2 port pages and 1 portgroup
		// page; one lookup of the page's last node each says it has no
		// more (a page past it would be a page of the next nodes).
		"the benchmark's shape: 2 ports and a portgroup each": {
			shape: func(int) (int, int, bool) { return 2, 1, false },
			most:  map[string]int{"nodes": 1, "ports": 2, "ports?node=": 1, "portgroups": 1, "portgroups?node=": 1},
		},
		// The portgroup page past the last one with a portgroup says
		// nothing of the nodes after it: they are looked up (at most
		// lookupMax), or the page read on.
		"a portgroup on every 7th node": {
			shape: func(i int) (int, int, bool) { return 2, b2i(i%7 == 0), false },
			most:  map[string]int{"nodes": 1, "ports": 2, "ports?node=": 1, "portgroups": 2, "portgroups?node=": lookupMax},
		},
		// Only a later node could tell that the last ones have none:
		// they are looked up instead.
		"the last nodes of each page without ports": {
			shape: func(i int) (int, int, bool) { return 2 * b2i(i%10 < 8), 1, false },
			most:  map[string]int{"nodes": 1, "ports": 2, "ports?node=": 2, "portgroups": 1, "portgroups?node=": 1},
		},
		// Their ports come in the port stream and are skipped.
		"every 3rd node in maintenance": {
			shape: func(i int) (int, int, bool) { return 2, 1, i%3 == 0 },
			most:  map[string]int{"nodes": 1, "ports": 3, "ports?node=": lookupMax, "portgroups": 2, "portgroups?node=": lookupMax},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f, url := newFakeIronic(t, 10)
			for i := range 100 {
				ports, pgs, maint := tc.shape(i)
				f.addNode(ports, pgs)
				if maint {
					f.setMaintenance(i)
				}
			}
			d := fakeDriver(t, url)
			var paged []string
			marker := ""
			for page := 0; ; page++ {
				f.take()
				got, last := listPage(t, d, 10, marker)
				reqs := f.take()
				if len(got) == 0 {
					// The first page of each stream is asked for with the
					// node page: here, at the end, they are empty.
					for kind, n := range reqs {
						if n > 1 || strings.HasSuffix(kind, "?node=") {
							t.Errorf("the empty last page's requests: %v, want a page of each stream at most", reqs)
						}
					}
					break
				}
				for kind, n := range reqs {
					if n > tc.most[kind] {
						t.Errorf("page %d: %d %s requests, want at most %d (page: %v)", page, n, kind, tc.most[kind], reqs)
					}
				}
				paged, marker = append(paged, got...), last
			}
			if diff := cmp.Diff(f.wantListing(), paged); diff != "" {
				t.Errorf("paged listing (-want +got):\n%s", diff)
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Paging while the fleet changes between pages, at random (seeded): every
// page is exactly the next nodes of the fleet as it is when the page is
// asked for — nodes added, ports added and deleted, nodes put in
// maintenance — whether the driver remembers where the previous page
// stopped or not, whatever Ironic's max_limit and the page size.
func TestUnitPagedListingUnderChanges(t *testing.T) {
	for seed := range uint64(30) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(seed, 9))
			f, url := newFakeIronic(t, 2+rnd.IntN(6))
			for range 20 + rnd.IntN(30) {
				f.addNode(rnd.IntN(4), rnd.IntN(2))
			}
			limit := 1 + rnd.IntN(8)
			d := fakeDriver(t, url)
			marker := ""
			for page := 0; page < 200; page++ {
				if rnd.IntN(3) == 0 {
					d = fakeDriver(t, url) // another process: nothing remembered
				}
				want := f.wantAfter(marker, limit)
				f.log = nil
				got, last := listPage(t, d, limit, marker)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("page %d (limit %d, max_limit %d) (-want +got):\n%s\nrequests:\n%s\nfleet:\n%s", page, limit, f.maxLimit, diff, strings.Join(f.log, "\n"), f.dump())
				}
				if len(got) == 0 {
					return
				}
				marker = last
				switch rnd.IntN(5) {
				case 0:
					f.addNode(rnd.IntN(4), rnd.IntN(2))
				case 1:
					f.addPort(f.nodes[rnd.IntN(len(f.nodes))])
				case 2:
					f.deletePort(rnd.IntN(1000))
				case 3:
					f.setMaintenance(rnd.IntN(1000))
				}
			}
			t.Fatal("the listing never ended")
		})
	}
}

// wantAfter is the page of limit nodes after marker, as the fleet is now.
func (f *fakeIronic) wantAfter(marker string, limit int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	nodes := f.nodes
	if marker != "" {
		i := slices.IndexFunc(nodes, func(n *fakeNode) bool { return n.uuid == marker })
		nodes = nodes[i+1:]
	}
	var out []string
	for _, n := range nodes {
		if n.maintenance {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, describeNode(n.uuid, f.itemsOf(f.ports, n), f.itemsOf(f.pgs, n)))
	}
	return out
}

func (f *fakeIronic) dump() string {
	var b strings.Builder
	for _, n := range f.nodes {
		fmt.Fprintf(&b, "node %d %s maint=%v ports %v pgs %v\n", n.id, n.uuid[:8], n.maintenance, f.short(f.ports, n), f.short(f.pgs, n))
	}
	return b.String()
}

func (f *fakeIronic) short(items []*fakeItem, n *fakeNode) []string {
	var out []string
	for _, it := range items {
		if it.node == n {
			out = append(out, fmt.Sprintf("%d:%s", it.id, it.uuid[:8]))
		}
	}
	return out
}
