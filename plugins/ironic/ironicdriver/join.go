package ironicdriver

import (
	"context"
	"errors"
)

// joiner joins a node stream with port and portgroup streams, all three
// in Ironic's internal node order (nodes by id, ports and portgroups by
// node_id), and hands each node on as soon as no more of its ports or
// portgroups can come: that is when the port stream has reached a later
// node of the listing, or has ended. Ports of nodes the listing does not
// (yet) hold wait in orphans until their node comes, or forever when it is
// filtered out.
type joiner struct {
	pending []*joinEntry          // received, not yet emitted, in order
	byUUID  map[string]*joinEntry // the pending ones
	next    int                   // position of the next node received

	ports      side[ironicPort]
	portgroups side[ironicPortgroup]
}

type joinEntry struct {
	pos   int
	node  ironicNode
	ports []ironicPort
	pgs   []ironicPortgroup
}

// side is the progress of one of the port-like streams.
type side[T any] struct {
	done     bool
	frontier int // highest position of a listed node this stream has reached
	orphans  map[string][]T
}

func (s *side[T]) passed(pos int) bool { return s.done || s.frontier > pos }

// run consumes the three channels (closed by their fetchers when done) and
// calls emit for each node in order. It returns emit's error, or ctx's when
// ctx ends first; errStopListing from emit ends the listing early without
// error.
func (j *joiner) run(ctx context.Context, nodeCh <-chan []ironicNode, portCh <-chan []ironicPort, pgCh <-chan []ironicPortgroup,
	emit func(*ironicNode, []ironicPort, []ironicPortgroup) error,
) error {
	j.byUUID = map[string]*joinEntry{}
	j.ports = side[ironicPort]{frontier: -1, orphans: map[string][]ironicPort{}}
	j.portgroups = side[ironicPortgroup]{frontier: -1, orphans: map[string][]ironicPortgroup{}}
	nodesDone := false
	for !nodesDone || len(j.pending) > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case page, ok := <-nodeCh:
			if !ok {
				nodesDone, nodeCh = true, nil
				break
			}
			for i := range page {
				j.addNode(page[i])
			}
		case page, ok := <-portCh:
			if !ok {
				j.ports.done, portCh = true, nil
				break
			}
			for _, p := range page {
				attach(&j.ports, j.byUUID, p.NodeUUID, p, func(e *joinEntry, p ironicPort) { e.ports = append(e.ports, p) })
			}
		case page, ok := <-pgCh:
			if !ok {
				j.portgroups.done, pgCh = true, nil
				break
			}
			for _, pg := range page {
				attach(&j.portgroups, j.byUUID, pg.NodeUUID, pg, func(e *joinEntry, pg ironicPortgroup) { e.pgs = append(e.pgs, pg) })
			}
		}
		if err := j.flush(emit); err != nil {
			if errors.Is(err, errStopListing) {
				return nil
			}
			return err
		}
	}
	return nil
}

func (j *joiner) addNode(n ironicNode) {
	e := &joinEntry{pos: j.next, node: n}
	j.next++
	if ps, ok := j.ports.orphans[n.UUID]; ok {
		e.ports = ps
		delete(j.ports.orphans, n.UUID)
		j.ports.frontier = max(j.ports.frontier, e.pos)
	}
	if pgs, ok := j.portgroups.orphans[n.UUID]; ok {
		e.pgs = pgs
		delete(j.portgroups.orphans, n.UUID)
		j.portgroups.frontier = max(j.portgroups.frontier, e.pos)
	}
	j.pending = append(j.pending, e)
	j.byUUID[n.UUID] = e
}

// attach gives item to its pending node, or keeps it as an orphan.
func attach[T any](s *side[T], byUUID map[string]*joinEntry, nodeUUID string, item T, add func(*joinEntry, T)) {
	if e, ok := byUUID[nodeUUID]; ok {
		add(e, item)
		s.frontier = max(s.frontier, e.pos)
		return
	}
	s.orphans[nodeUUID] = append(s.orphans[nodeUUID], item)
}

// flush emits the leading pending nodes that are complete.
func (j *joiner) flush(emit func(*ironicNode, []ironicPort, []ironicPortgroup) error) error {
	n := 0
	for _, e := range j.pending {
		if !j.ports.passed(e.pos) || !j.portgroups.passed(e.pos) {
			break
		}
		delete(j.byUUID, e.node.UUID)
		n++
		if err := emit(&e.node, e.ports, e.pgs); err != nil {
			j.pending = j.pending[n:]
			return err
		}
	}
	j.pending = j.pending[n:]
	return nil
}
