package ironicdriver

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// wantState is what GetNodeStates should answer for a fixture node.
func wantState(n ironic.Node) driver.NodeState {
	w := want(n)
	return driver.NodeState{
		NodeUUID: n.UUID, Exists: true, InstanceUUID: n.InstanceUUID,
		PowerState: w.PowerState, ProvisionState: w.ProvisionState,
	}
}

// byNode compares state lists whatever their order.
var byNode = cmpopts.SortSlices(func(a, b driver.NodeState) bool { return a.NodeUUID < b.NodeUUID })

// A small batch, through the real plugin process: each node read as it is.
func TestGetNodeStatesSmallBatch(t *testing.T) {
	d := launch(t)
	unknown := uuid.NewString()
	var ids []string
	var wantStates []driver.NodeState
	for _, kind := range []ironic.Kind{ironic.KindAssociated, ironic.KindAdoptable, ironic.KindMaintenance, ironic.KindAvailable} {
		n := fixtureOf(t, kind)[0]
		ids = append(ids, n.UUID)
		wantStates = append(wantStates, wantState(n))
	}
	ids = append(ids, unknown, "node-1")
	wantStates = append(wantStates, driver.NodeState{NodeUUID: unknown}, driver.NodeState{NodeUUID: "node-1"})

	got, err := d.GetNodeStates(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantStates, got, byNode); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// A batch over listStatesAbove: the same answers as node by node, read from
// the listing of associated nodes page by page, plus one request for each
// requested node that is not associated.
func TestGetNodeStatesLargeBatch(t *testing.T) {
	associated, err := ironicEnv(t).ironic.Fixture().Enroll(t.Context(), ironic.Mix{Associated: listStatesAbove + 2, ResourceClass: scratchRC})
	if err != nil {
		t.Fatal(err)
	}
	associated = append(associated, fixtureOf(t, ironic.KindAssociated)...)
	free := slices.Concat(fixtureOf(t, ironic.KindAdoptable)[:2], fixtureOf(t, ironic.KindAvailable))
	unknown := []string{uuid.NewString(), uuid.NewString()}

	var ids []string
	var wantStates []driver.NodeState
	for _, n := range slices.Concat(associated, free) {
		ids = append(ids, n.UUID)
		wantStates = append(wantStates, wantState(n))
	}
	for _, id := range append(unknown, "node-1") {
		ids = append(ids, id)
		wantStates = append(wantStates, driver.NodeState{NodeUUID: id})
	}
	if len(ids) <= listStatesAbove {
		t.Fatalf("batch of %d uuids does not exercise the listing", len(ids))
	}

	d := newTestDriver(t)
	counter := countRequests(d)
	got, err := d.GetNodeStates(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantStates, got, byNode); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// Ironic answers a "next" link after every full page: pages = n/limit+1.
	wantRequests := map[string]int{"/v1/nodes": associatedInIronic(t)/pageLimit + 1}
	for _, id := range slices.Concat(uuidsOf(free), unknown) {
		wantRequests["/v1/nodes/"+id] = 1
	}
	if diff := cmp.Diff(wantRequests, counter.paths); diff != "" {
		t.Errorf("Ironic requests (-want +got):\n%s", diff)
	}

	t.Run("same answers node by node", func(t *testing.T) {
		var small []driver.NodeState
		for batch := range slices.Chunk(ids, listStatesAbove) {
			states, err := d.GetNodeStates(t.Context(), batch)
			if err != nil {
				t.Fatal(err)
			}
			small = append(small, states...)
		}
		if diff := cmp.Diff(got, small, byNode); diff != "" {
			t.Errorf("large batch (-) and small batches (+) differ:\n%s", diff)
		}
	})
}

// associatedInIronic counts the associated nodes, straight from Ironic.
func associatedInIronic(t *testing.T) int {
	t.Helper()
	count := 0
	path := "/v1/nodes?associated=true&fields=uuid"
	for path != "" {
		var page struct {
			Nodes []struct{} `json:"nodes"`
			Next  string     `json:"next"`
		}
		ironicCall(t, http.MethodGet, path, nil, &page)
		count += len(page.Nodes)
		path = ""
		if page.Next != "" {
			u, err := url.Parse(page.Next)
			if err != nil {
				t.Fatal(err)
			}
			path = u.RequestURI()
		}
	}
	return count
}

func uuidsOf(nodes []ironic.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.UUID
	}
	return out
}

// Ironic unreachable: both ways of reading are Unavailable, naming Ironic.
func TestUnitGetNodeStatesUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	large := make([]string, listStatesAbove+1)
	for i := range large {
		large[i] = uuid.NewString()
	}
	tests := map[string][]string{
		"small batch": {uuid.NewString()},
		"large batch": large,
	}
	for name, ids := range tests {
		t.Run(name, func(t *testing.T) {
			d := newDriver(nil)
			if err := d.Configure(t.Context(), map[string]string{"url": closed}); err != nil {
				t.Fatal(err)
			}
			_, err := d.GetNodeStates(t.Context(), ids)
			if !errors.Is(err, driver.ErrUnavailable) || !strings.Contains(err.Error(), "ironic") {
				t.Errorf("err = %v, want ErrUnavailable naming ironic", err)
			}
		})
	}
}
