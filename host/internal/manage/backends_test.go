package manage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

// twoBackends is a service over two fake backends, east (nodes e1..e5)
// and west (w1..w4), plus a noop one that cannot discover; each backend's
// nodes listed in uuid order.
type twoBackends struct {
	*env
	east, west *fakeBackend
	westDown   error
}

func bareNode(id string) driver.Node {
	return driver.Node{UUID: id, Name: "n-" + id[:8], PowerState: "power on", ProvisionState: "active", Manageable: true}
}

func nodeIDs(prefix string, n int) []driver.Node {
	var out []driver.Node
	for i := 1; i <= n; i++ {
		out = append(out, bareNode(fmt.Sprintf("%s%07d-0000-4000-8000-000000000000", prefix, i)))
	}
	return out
}

func newTwoBackends(t *testing.T) *twoBackends {
	t.Helper()
	tb := &twoBackends{east: newBackend(nodeIDs("e", 5)...), west: newBackend(nodeIDs("f", 4)...)}
	noop := &drivertest.FuncDriver{InfoFunc: func(context.Context) (driver.Info, error) {
		return driver.Info{Name: "noop", Capabilities: []string{}}, nil
	}}
	tb.env = newEnv(t, func(c *Config) {
		c.Networks, c.Images = nil, nil
		c.Backends = []Backend{
			{Name: "east", Driver: tb.east.driver()},
			{Name: "noop", Driver: noop},
			{Name: "west", Driver: tb.west.driver(), Check: func(context.Context) error { return tb.westDown }},
		}
	})
	return tb
}

// list returns "backend/uuid" of a listing's items.
func (tb *twoBackends) list(t *testing.T, opts ListOptions) ([]string, error) {
	t.Helper()
	var got []string
	err := tb.svc.ListManageable(t.Context(), opts, func(b string, n Node) error {
		got = append(got, b+"/"+n.UUID[:8])
		return nil
	})
	return got, err
}

// TestListingAcrossBackends: every discovering backend's nodes in the
// configured order, the noop one left out; pages of any size lose and
// repeat nothing across the boundary; ?backend= keeps one.
func TestListingAcrossBackends(t *testing.T) {
	tb := newTwoBackends(t)
	all, err := tb.list(t, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 9 || !strings.HasPrefix(all[0], "east/") || !strings.HasPrefix(all[8], "west/") {
		t.Fatalf("listing = %v; want east's 5 then west's 4", all)
	}
	for _, limit := range []int{1, 2, 4, 5, 7} {
		for _, cached := range []bool{true, false} {
			t.Run(fmt.Sprintf("limit %d cursor remembered %v", limit, cached), func(t *testing.T) {
				var paged []string
				marker := ""
				for range 20 {
					if !cached {
						tb.svc.backends.cursors = newCursorCache(cursorCacheSize)
					}
					opts := ListOptions{}
					opts.Limit, opts.Marker = limit, marker
					page, err := tb.list(t, opts)
					if err != nil {
						t.Fatal(err)
					}
					paged = append(paged, page...)
					if len(page) < limit {
						break
					}
					marker = fullUUID(t, tb, page[len(page)-1])
				}
				if diff := cmp.Diff(all, paged); diff != "" {
					t.Errorf("pages of %d (-whole +paged):\n%s", limit, diff)
				}
			})
		}
	}
	one, err := tb.list(t, ListOptions{Backend: "west"})
	if err != nil || len(one) != 4 || !strings.HasPrefix(one[0], "west/") {
		t.Errorf("?backend=west = %v, %v", one, err)
	}
	if _, err := tb.list(t, ListOptions{Backend: "north"}); !errors.Is(err, ErrInvalidArgument) ||
		!strings.Contains(err.Error(), "east, noop, west") {
		t.Errorf("?backend=north = %v; want 400 listing the backends", err)
	}
	if _, err := tb.list(t, ListOptions{Backend: "noop"}); !errors.Is(err, ErrNotImplemented) {
		t.Errorf("?backend=noop = %v; want its driver's 501", err)
	}
}

// fullUUID turns a "backend/prefix" item back into its node's uuid.
func fullUUID(t *testing.T, tb *twoBackends, item string) string {
	t.Helper()
	b, prefix, _ := strings.Cut(item, "/")
	fb := map[string]*fakeBackend{"east": tb.east, "west": tb.west}[b]
	for id := range fb.nodes {
		if strings.HasPrefix(id, prefix) {
			return id
		}
	}
	t.Fatalf("no node %s", item)
	return ""
}

// TestListingWithABackendDown: a listing is never silently partial: 503
// naming the backend; the others alone still list.
func TestListingWithABackendDown(t *testing.T) {
	tb := newTwoBackends(t)
	tb.westDown = driver.Unavailable("Ironic at http://west:6385 is unreachable")
	_, err := tb.list(t, ListOptions{})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), `backend "west"`) || !strings.Contains(err.Error(), "west:6385") {
		t.Fatalf("listing with west down = %v; want 503 naming west", err)
	}
	if got, err := tb.list(t, ListOptions{Backend: "east"}); err != nil || len(got) != 5 {
		t.Errorf("?backend=east with west down = %v, %v", got, err)
	}
}

// TestAdoptFindsItsBackend: an adoption finds its node's backend (or takes
// the body's), records it, and everything after acts there.
func TestAdoptFindsItsBackend(t *testing.T) {
	tb := newTwoBackends(t)
	ctx := t.Context()
	westNode := nodeIDs("f", 1)[0].UUID
	srv, err := tb.svc.Adopt(ctx, request(westNode))
	if err != nil {
		t.Fatal(err)
	}
	if srv.Backend != "west" || tb.west.instanceOf(westNode) != srv.UUID {
		t.Fatalf("adopted on %q (west instance %q)", srv.Backend, tb.west.instanceOf(westNode))
	}
	eastNode := nodeIDs("e", 2)[1].UUID
	req := request(eastNode)
	req.Backend = "east"
	if srv, err := tb.svc.Adopt(ctx, req); err != nil || srv.Backend != "east" {
		t.Fatalf("adopt with backend east = %+v, %v", srv, err)
	}
	if err := tb.svc.Unmanage(ctx, Caller{RequestID: "r"}, srv.UUID); err != nil {
		t.Fatal(err)
	}
	if tb.west.instanceOf(westNode) != "" {
		t.Error("unmanage did not release the node on its own backend")
	}

	refusals := map[string]struct {
		prepare func(*Request)
		kind    error
		says    string
	}{
		"unknown node":            {func(r *Request) { r.NodeUUID = "99999999-0000-4000-8000-000000000000" }, ErrNodeNotFound, "any backend (east, noop, west)"},
		"unknown backend":         {func(r *Request) { r.Backend = "north" }, ErrInvalidArgument, `Unknown backend "north"`},
		"node on the other":       {func(r *Request) { r.Backend = "west" }, ErrNodeNotFound, ""},
		"node in two backends":    {func(r *Request) { r.NodeUUID = "d0000001-0000-4000-8000-000000000000" }, ErrConflict, "several backends (east, west)"},
		"backend down, not found": {func(r *Request) { r.NodeUUID = "99999998-0000-4000-8000-000000000000" }, ErrUnavailable, "west"},
	}
	twin := bareNode("d0000001-0000-4000-8000-000000000000")
	tb.east.nodes[twin.UUID] = &fakeNode{node: twin}
	tb.west.nodes[twin.UUID] = &fakeNode{node: twin}
	for name, tc := range refusals {
		t.Run(name, func(t *testing.T) {
			if name == "backend down, not found" {
				tb.west.fail["get"] = driver.Unavailable("Ironic at http://west:6385 is unreachable")
				defer delete(tb.west.fail, "get")
			}
			req := request(nodeIDs("e", 3)[2].UUID)
			tc.prepare(&req)
			_, err := tb.svc.Adopt(ctx, req)
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("Adopt = %v; want %v saying %q", err, tc.kind, tc.says)
			}
		})
	}
}

// TestServerOfAnUnconfiguredBackend: a server whose backend is no longer
// configured keeps showing; acting on it is a 409 naming the backend.
func TestServerOfAnUnconfiguredBackend(t *testing.T) {
	tb := newTwoBackends(t)
	ctx := t.Context()
	srv, err := tb.svc.Adopt(ctx, request(nodeIDs("f", 1)[0].UUID))
	if err != nil {
		t.Fatal(err)
	}
	tb.svc.backends = newBackendSet(tb.svc.backends.list[:1]) // west removed from the configuration
	if got, err := tb.svc.GetServer(ctx, srv.UUID); err != nil || got.Backend != "west" {
		t.Errorf("GetServer = %+v, %v", got, err)
	}
	err = tb.svc.Unmanage(ctx, Caller{RequestID: "r"}, srv.UUID)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), `Backend "west" is not configured`) {
		t.Errorf("Unmanage = %v; want 409 naming west", err)
	}
	if _, err := tb.svc.Reconcile(ctx); err == nil || !strings.Contains(err.Error(), "west") {
		t.Errorf("reconcile = %v; want it to name the missing backend", err)
	}
}
