package ironicdriver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// fakeIronic answers the three listings the driver reads the way Ironic
// pages them (for the offline TestUnit… tests of the listing): nodes by
// internal id, filtered; ports and portgroups sorted by (node_id, id) with
// sort_key=node_id, else by id; a marker resumes after its item, and is a
// 404 when gone; ?node= keeps one node's (a 404 for an unknown node); at
// most maxLimit items a page, with a "next" link on every full page. It
// counts the requests by kind ("nodes", "ports", "ports?node=", …).
type fakeIronic struct {
	t        *testing.T
	maxLimit int

	mu       sync.Mutex
	nextID   int
	nodes    []*fakeNode
	ports    []*fakeItem
	pgs      []*fakeItem
	requests map[string]int
	log      []string // every request, in order
}

type fakeNode struct {
	id          int
	uuid        string
	maintenance bool
}

type fakeItem struct {
	id   int
	uuid string
	node *fakeNode
}

func newFakeIronic(t *testing.T, maxLimit int) (*fakeIronic, string) {
	f := &fakeIronic{t: t, maxLimit: maxLimit, requests: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv.URL
}

// addNode enrolls an adoptable node with ports and portgroups.
func (f *fakeIronic) addNode(ports, pgs int) *fakeNode {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	n := &fakeNode{id: f.nextID, uuid: uuid.NewString()}
	f.nodes = append(f.nodes, n)
	for range ports {
		f.addItemLocked(&f.ports, n)
	}
	for range pgs {
		f.addItemLocked(&f.pgs, n)
	}
	return n
}

func (f *fakeIronic) addPort(n *fakeNode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addItemLocked(&f.ports, n)
}

func (f *fakeIronic) addItemLocked(items *[]*fakeItem, n *fakeNode) {
	f.nextID++
	*items = append(*items, &fakeItem{id: f.nextID, uuid: uuid.NewString(), node: n})
}

// deletePort deletes the i-th port (modulo their number), if any.
func (f *fakeIronic) deletePort(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ports) > 0 {
		i %= len(f.ports)
		f.ports = slices.Delete(f.ports, i, i+1)
	}
}

func (f *fakeIronic) setMaintenance(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodes[i%len(f.nodes)].maintenance = true
}

// take returns the requests counted since the last take.
func (f *fakeIronic) take() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = map[string]int{}
	return out
}

func (f *fakeIronic) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	resource := strings.TrimPrefix(r.URL.Path, "/v1/")
	kind := resource
	if q.Has("node") {
		kind += "?node="
	}
	f.requests[kind]++
	f.log = append(f.log, r.URL.RequestURI())
	limit := f.maxLimit
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 {
		limit = min(l, f.maxLimit)
	}
	notFound := func(what string) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = fmt.Fprintf(w, `{"error_message": "{\"faultstring\": \"%s could not be found.\"}"}`, what)
	}
	var out []map[string]any
	switch resource {
	case "nodes":
		nodes := slices.Clone(f.nodes)
		if m := q.Get("marker"); m != "" {
			i := slices.IndexFunc(nodes, func(n *fakeNode) bool { return n.uuid == m })
			if i < 0 {
				notFound("Node " + m)
				return
			}
			nodes = nodes[i+1:]
		}
		for _, n := range nodes {
			if q.Get("maintenance") == "false" && n.maintenance {
				continue
			}
			if len(out) == limit {
				break
			}
			out = append(out, map[string]any{
				"uuid": n.uuid, "name": "node-" + strconv.Itoa(n.id), "resource_class": "baremetal", "power_state": "power on",
				"provision_state": "active", "instance_uuid": nil, "maintenance": n.maintenance,
				"instance_info": map[string]any{"image_source": "img-" + strconv.Itoa(n.id)},
			})
		}
	case "ports", "portgroups":
		items := slices.Clone(f.ports)
		if resource == "portgroups" {
			items = slices.Clone(f.pgs)
		}
		byNode := q.Get("sort_key") == "node_id"
		key := func(it *fakeItem) [2]int {
			if byNode {
				return [2]int{it.node.id, it.id}
			}
			return [2]int{it.id, 0}
		}
		slices.SortFunc(items, func(a, b *fakeItem) int {
			ka, kb := key(a), key(b)
			return cmpPair(ka, kb)
		})
		if node := q.Get("node"); node != "" {
			if !slices.ContainsFunc(f.nodes, func(n *fakeNode) bool { return n.uuid == node }) {
				notFound("Node " + node)
				return
			}
			items = slices.DeleteFunc(items, func(it *fakeItem) bool { return it.node.uuid != node })
		}
		if m := q.Get("marker"); m != "" {
			i := slices.IndexFunc(items, func(it *fakeItem) bool { return it.uuid == m })
			all := slices.Concat(f.ports, f.pgs)
			j := slices.IndexFunc(all, func(it *fakeItem) bool { return it.uuid == m })
			if j < 0 {
				notFound("Port " + m)
				return
			}
			if i < 0 { // not among the filtered ones: resume after its key
				mk := key(all[j])
				i = -1
				for k, it := range items {
					if cmpPair(key(it), mk) <= 0 {
						i = k
					}
				}
			}
			items = items[i+1:]
		}
		for _, it := range items {
			if len(out) == limit {
				break
			}
			item := map[string]any{
				"uuid": it.uuid, "address": fmt.Sprintf("52:54:00:00:%02x:%02x", it.id/256%256, it.id%256), "node_uuid": it.node.uuid,
				"extra": map[string]any{"vif_port_id": "vif-" + strconv.Itoa(it.id)}, "internal_info": map[string]any{},
			}
			if resource == "portgroups" {
				item["mode"] = "active-backup"
			}
			out = append(out, item)
		}
	default:
		http.NotFound(w, r)
		return
	}
	body := map[string]any{resource: out}
	if out == nil {
		body[resource] = []any{}
	}
	if len(out) == limit {
		body["next"] = "http://" + r.Host + r.URL.Path + "?limit=" + strconv.Itoa(limit) + "&marker=" + out[len(out)-1]["uuid"].(string) //nolint:forcetypeassert // set above
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(body); err != nil {
		f.t.Error(err)
	}
}

func cmpPair(a, b [2]int) int {
	if a[0] != b[0] {
		return a[0] - b[0]
	}
	return a[1] - b[1]
}

// wantListing is what a whole listing of the fake holds now: its
// adoptable nodes in order, each with its ports and portgroups by id.
func (f *fakeIronic) wantListing() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, n := range f.nodes {
		if n.maintenance {
			continue
		}
		out = append(out, describeNode(n.uuid, f.itemsOf(f.ports, n), f.itemsOf(f.pgs, n)))
	}
	return out
}

func (f *fakeIronic) itemsOf(items []*fakeItem, n *fakeNode) []string {
	var out []string
	for _, it := range items {
		if it.node == n {
			out = append(out, it.uuid)
		}
	}
	slices.Sort(out) // order within a node is not the point here
	return out
}

// describeNode is a node with its items, comparable between the fake and
// a listing.
func describeNode(node string, ports, pgs []string) string {
	return node + " ports " + strings.Join(ports, ",") + " portgroups " + strings.Join(pgs, ",")
}
