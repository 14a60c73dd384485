package ironicdriver

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The join's bookkeeping, step by step: which nodes are out after each
// page arrives, whatever order the three streams deliver in.
func TestJoinerEmitsNodesOnceTheirPortsArePast(t *testing.T) {
	type step struct {
		nodes []string            // a node page
		ports map[string][]string // node -> port uuids, a port page (in node order)
		pgs   []string            // a portgroup page: node uuids
		end   string              // "nodes", "ports" or "portgroups" stream ends
	}
	type result struct {
		Node  string
		Ports []string
		PGs   int
	}
	tests := map[string]struct {
		steps []step
		want  [][]result // emitted after each step
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
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			nodeCh := make(chan []ironicNode, 1)
			portCh := make(chan []ironicPort, 1)
			pgCh := make(chan []ironicPortgroup, 1)
			emitted := make(chan result, 16)
			done := make(chan error, 1)
			var j joiner
			go func() {
				done <- j.run(context.Background(), nodeCh, portCh, pgCh, func(n *ironicNode, ps []ironicPort, pgs []ironicPortgroup) error {
					r := result{Node: n.UUID, PGs: len(pgs)}
					for _, p := range ps {
						r.Ports = append(r.Ports, p.UUID)
					}
					emitted <- r
					return nil
				})
			}()
			// A step is consumed once the next send is accepted (capacity
			// 1, one reader); a final empty send on an open channel, or the
			// run ending, flushes the last.
			for i, s := range tc.steps {
				switch {
				case s.nodes != nil:
					var page []ironicNode
					for _, u := range s.nodes {
						page = append(page, ironicNode{UUID: u})
					}
					nodeCh <- page
				case s.ports != nil:
					var page []ironicPort
					for _, node := range sortedKeys(s.ports) {
						for _, p := range s.ports[node] {
							page = append(page, ironicPort{UUID: p, NodeUUID: node})
						}
					}
					portCh <- page
				case s.pgs != nil:
					var page []ironicPortgroup
					for _, node := range s.pgs {
						page = append(page, ironicPortgroup{NodeUUID: node})
					}
					pgCh <- page
				}
				switch s.end {
				case "nodes":
					close(nodeCh)
				case "ports":
					close(portCh)
				case "portgroups":
					close(pgCh)
				}
				if i == len(tc.steps)-1 {
					if err := <-done; err != nil {
						t.Fatal(err)
					}
				}
				var got []result
				for len(got) < len(tc.want[i]) {
					got = append(got, <-emitted)
				}
				if diff := cmp.Diff(tc.want[i], got); diff != "" {
					t.Errorf("after step %d (-want +got):\n%s", i, diff)
				}
			}
			select {
			case r := <-emitted:
				t.Errorf("emitted more: %+v", r)
			default:
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
