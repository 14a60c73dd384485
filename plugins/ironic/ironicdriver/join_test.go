package ironicdriver

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The join's bookkeeping, step by step: which nodes are out after each
// page arrives, whatever order the three streams deliver in, and what the
// listing should read next.
func TestUnitJoinerEmitsNodesOnceTheirPortsArePast(t *testing.T) {
	type step struct {
		nodes []string            // a node page
		ports map[string][]string // node -> port uuids, a port page (in node order)
		pgs   []string            // a portgroup page: node uuids
		end   string              // "nodes", "ports" or "portgroups" stream ends
		tail  map[string][]string // the last needed node's ports, looked up
	}
	type result struct {
		Node  string
		Ports []string
		PGs   int
	}
	tests := map[string]struct {
		limit    int
		unwanted string // a node the listing drops
		steps    []step
		want     [][]result // emitted after each step
		// after the last step
		finished    bool
		portOrphans int
		portLookups []string // the nodes whose ports to look up now
	}{
		"ports before their nodes, one node filtered out": {
			steps: []step{
				{ports: map[string][]string{"filtered": {"p0"}, "a": {"p1", "p2"}}},
				{nodes: []string{"a", "b"}},
				{ports: map[string][]string{"b": {"p3"}}},
				{end: "portgroups"},
				{end: "nodes"},
				{end: "ports"},
			},
			want: [][]result{
				nil, nil, nil,
				{{"a", []string{"p1", "p2"}, 0}},
				nil,
				{{"b", []string{"p3"}, 0}},
			},
			finished: true,
		},
		"nodes first, ports stream passing them one by one": {
			steps: []step{
				{nodes: []string{"a", "b", "c"}},
				{end: "nodes"},
				{pgs: []string{"b"}},
				{end: "portgroups"},
				{ports: map[string][]string{"a": {"p1"}}},
				{ports: map[string][]string{"c": {"p2"}}},
				{end: "ports"},
			},
			want: [][]result{
				nil, nil, nil, nil, nil,
				{{"a", []string{"p1"}, 0}, {"b", nil, 1}},
				{{"c", []string{"p2"}, 0}},
			},
			finished: true,
		},
		"an item of a node not listed completes the node before it": {
			steps: []step{
				{nodes: []string{"a", "b"}},
				{end: "portgroups"},
				{ports: map[string][]string{"a": {"p1"}, "x": {"p9"}}},
			},
			// b may still have ports: x may sort before it (filtered out)
			// or after it (not listed yet).
			want:        [][]result{nil, nil, {{"a", []string{"p1"}, 0}}},
			portOrphans: 1,
		},
		"orphans before a listed node's item are dropped": {
			steps: []step{
				{nodes: []string{"a"}},
				{end: "portgroups"},
				{ports: map[string][]string{"x": {"p0"}}}, // x sorts after a: a is complete? unknown (a has no ports yet)
				{nodes: []string{"b"}},
				{ports: map[string][]string{"b": {"p1"}}},
			},
			want:        [][]result{nil, nil, nil, nil, {{"a", nil, 0}}},
			portOrphans: 0,
		},
		"limit: nodes past the last needed one only tell where the streams stand": {
			limit: 2, unwanted: "u",
			steps: []step{
				{nodes: []string{"a", "u", "b", "c"}},
				{end: "portgroups"},
				{ports: map[string][]string{"a": {"p1"}, "b": {"p2"}, "c": {"p3"}}},
			},
			want:     [][]result{nil, nil, {{"a", []string{"p1"}, 0}, {"u", nil, 0}, {"b", []string{"p2"}, 0}}},
			finished: true,
		},
		"the last needed node completed by a lookup of it": {
			limit: 1,
			steps: []step{
				{nodes: []string{"a"}},
				{end: "portgroups"},
				{ports: map[string][]string{"a": {"p1"}}},
				{tail: map[string][]string{"a": {"p1", "p2"}}},
			},
			want:     [][]result{nil, nil, nil, {{"a", []string{"p1", "p2"}, 0}}},
			finished: true,
		},
		"at the last needed node, before its lookup": {
			limit: 2,
			steps: []step{
				{nodes: []string{"a", "b"}},
				{end: "portgroups"},
				{ports: map[string][]string{"a": {"p1"}, "b": {"p2"}}},
			},
			want:        [][]result{nil, nil, {{"a", []string{"p1"}, 0}}},
			portLookups: []string{"b"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			j := newJoiner(tc.limit, func(n *ironicNode) bool { return n.UUID != tc.unwanted })
			for i, s := range tc.steps {
				switch {
				case s.nodes != nil:
					var page []ironicNode
					for _, u := range s.nodes {
						page = append(page, ironicNode{UUID: u})
					}
					j.addNodes(page)
				case s.ports != nil:
					var page []ironicPort
					for _, node := range sortedKeys(s.ports) {
						for _, p := range s.ports[node] {
							page = append(page, ironicPort{UUID: p, NodeUUID: node})
						}
					}
					j.ports.take(j, page)
				case s.pgs != nil:
					var page []ironicPortgroup
					for _, node := range s.pgs {
						page = append(page, ironicPortgroup{NodeUUID: node})
					}
					j.portgroups.take(j, page)
				case s.tail != nil:
					open := toLookUp(j, &j.ports)
					if len(open) == 0 {
						t.Fatalf("step %d: no node to look the ports of up", i)
					}
					items := make([][]ironicPort, len(open))
					for k, e := range open {
						for _, p := range s.tail[e.node.UUID] {
							items[k] = append(items[k], ironicPort{UUID: p, NodeUUID: e.node.UUID})
						}
					}
					j.ports.complete(open, items)
				}
				switch s.end {
				case "nodes":
					j.endNodes()
				case "ports":
					j.ports.end()
				case "portgroups":
					j.portgroups.end()
				}
				var got []result
				err := j.flush(func(n *ironicNode, ps []ironicPort, pgs []ironicPortgroup) error {
					r := result{Node: n.UUID, PGs: len(pgs)}
					for _, p := range ps {
						r.Ports = append(r.Ports, p.UUID)
					}
					got = append(got, r)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want[i], got); diff != "" {
					t.Errorf("after step %d (-want +got):\n%s", i, diff)
				}
			}
			if got := j.finished(); got != tc.finished {
				t.Errorf("finished = %v, want %v", got, tc.finished)
			}
			if j.ports.orphanItems != tc.portOrphans {
				t.Errorf("port orphans kept = %d, want %d", j.ports.orphanItems, tc.portOrphans)
			}
			var lookups []string
			for _, e := range toLookUp(j, &j.ports) {
				lookups = append(lookups, e.node.UUID)
			}
			if diff := cmp.Diff(tc.portLookups, lookups); diff != "" {
				t.Errorf("nodes whose ports to look up (-want +got):\n%s", diff)
			}
		})
	}
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
