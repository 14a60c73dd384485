package ironicdriver

// joiner joins a node stream with port and portgroup streams, all three
// in Ironic's internal node order (nodes by id, ports and portgroups by
// node_id), and hands each node on as soon as no more of its ports or
// portgroups can come. It is a state machine fed one page at a time by
// the listing (list.go), which asks it which stream to read next: it
// reads nothing itself, so every decision is testable without Ironic.
//
// What "no more can come" means, from the order alone (Ironic does not
// show node_id, only node_uuid):
//   - an item of a listed node e: every listed node before e is complete
//     (the stream is sorted by node), and so are the items the stream
//     gave to nodes that never came (orphans: they sort before e, and
//     nodes come in the same order, so their node would have come by
//     now — filtered out by the listing's query; they are dropped);
//   - an item of a node not (yet) listed, after the stream gave one to
//     listed node c: that node sorts after c, so c is complete;
//   - the stream's end.
type joiner struct {
	// limit is the most nodes the listing sends (0: all); wanted says
	// which nodes it sends (the others are joined and dropped by emit).
	limit  int
	wanted func(*ironicNode) bool

	pending []*joinEntry          // received, not yet emitted, in order
	byUUID  map[string]*joinEntry // the pending ones
	next    int                   // position of the next node received

	// candidates counts the wanted nodes received; lastNeeded is the
	// position of the limit-th, -1 until it comes: nodes after it are
	// received only to tell where the port streams stand.
	candidates int
	lastNeeded int
	nodesDone  bool // the node stream ended
	stopped    bool // lastNeeded emitted: the listing is complete

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
	nodeOf func(T) string        // the node an item belongs to
	slot   func(*joinEntry) *[]T // where a node keeps its items

	done bool // the stream ended (or its last needed node was completed)
	// cur is the position of the listed node the stream last gave an
	// item to (-1: none yet); every listed node at or before passedUpTo
	// has all its items.
	cur, passedUpTo int
	// orphans[head:] are the items, in stream order, of nodes not listed
	// (yet) given since cur's; orphanAt finds a node's group.
	orphans     []orphanGroup[T]
	head        int
	orphanAt    map[string]int
	orphanItems int
	// pageLen is the length of the stream's longest page: Ironic's page,
	// which its max_limit may make smaller than the driver's; pages
	// counts them.
	pageLen, pages int
}

type orphanGroup[T any] struct {
	node  string
	items []T
}

func newJoiner(limit int, wanted func(*ironicNode) bool) *joiner {
	return &joiner{
		limit: limit, wanted: wanted, byUUID: map[string]*joinEntry{}, lastNeeded: -1,
		ports: side[ironicPort]{
			nodeOf: func(p ironicPort) string { return p.NodeUUID },
			slot:   func(e *joinEntry) *[]ironicPort { return &e.ports },
			cur:    -1, passedUpTo: -1, orphanAt: map[string]int{},
		},
		portgroups: side[ironicPortgroup]{
			nodeOf: func(pg ironicPortgroup) string { return pg.NodeUUID },
			slot:   func(e *joinEntry) *[]ironicPortgroup { return &e.pgs },
			cur:    -1, passedUpTo: -1, orphanAt: map[string]int{},
		},
	}
}

func (s *side[T]) passed(pos int) bool { return s.done || pos <= s.passedUpTo }

// addNodes takes a page of the node stream.
func (j *joiner) addNodes(page []ironicNode) {
	for i := range page {
		e := &joinEntry{pos: j.next, node: page[i]}
		j.next++
		if j.lastNeeded < 0 && j.wanted(&e.node) {
			j.candidates++
			if j.limit > 0 && j.candidates == j.limit {
				j.lastNeeded = e.pos
			}
		}
		j.ports.claim(e)
		j.portgroups.claim(e)
		j.pending = append(j.pending, e)
		j.byUUID[e.node.UUID] = e
	}
}

// endNodes notes the node stream's end: orphans can no longer find their
// node.
func (j *joiner) endNodes() {
	j.nodesDone = true
	j.ports.dropOrphans(len(j.ports.orphans))
	j.portgroups.dropOrphans(len(j.portgroups.orphans))
}

// claim gives a newly listed node the items the stream gave it before it
// came.
func (s *side[T]) claim(e *joinEntry) {
	i, ok := s.orphanAt[e.node.UUID]
	if !ok {
		return
	}
	items := s.orphans[i].items
	beyond := i < len(s.orphans)-1
	// The groups before it are of nodes that sort before e and never came.
	s.dropOrphans(i + 1)
	*s.slot(e) = items
	s.passedUpTo = max(s.passedUpTo, e.pos-1)
	s.cur = e.pos
	if beyond {
		s.passedUpTo = e.pos // the stream has moved past e
	}
	// The remaining groups stay orphans after the new cur.
}

// dropOrphans forgets the orphan groups before index upTo (of s.orphans,
// whose live groups start at head; orphanAt holds those indexes, so
// dropping does not shift them).
func (s *side[T]) dropOrphans(upTo int) {
	for _, g := range s.orphans[s.head:upTo] {
		delete(s.orphanAt, g.node)
		s.orphanItems -= len(g.items)
	}
	s.head = upTo
	if s.head == len(s.orphans) {
		clear(s.orphans)
		s.orphans, s.head = s.orphans[:0], 0
	}
}

// ahead: the side has read a page's worth of items of nodes not listed
// (yet) — about a page ahead of the node stream. Before it has reached
// any listed node, its orphans more likely sort before the listing's
// first node (a listing filtered by resource class, or resuming without
// a cursor): up to pageSize of them are read on.
func (s *side[T]) ahead() bool {
	return s.orphanItems > 0 && s.orphanItems >= max(s.pageLen, 1) && (s.cur >= 0 || s.orphanItems >= pageSize)
}

// take consumes a page of this side's stream.
func (s *side[T]) take(j *joiner, page []T) {
	s.pageLen = max(s.pageLen, len(page))
	s.pages++
	for _, item := range page {
		node := s.nodeOf(item)
		if e, ok := j.byUUID[node]; ok {
			if e.pos != s.cur {
				s.passedUpTo = max(s.passedUpTo, e.pos-1)
				s.dropOrphans(len(s.orphans))
				s.cur = e.pos
			}
			*s.slot(e) = append(*s.slot(e), item)
			continue
		}
		if s.cur >= 0 {
			s.passedUpTo = max(s.passedUpTo, s.cur)
		}
		if j.nodesDone {
			continue // no node can claim it any more
		}
		if n := len(s.orphans); n > s.head && s.orphans[n-1].node == node {
			s.orphans[n-1].items = append(s.orphans[n-1].items, item)
		} else {
			s.orphanAt[node] = len(s.orphans)
			s.orphans = append(s.orphans, orphanGroup[T]{node: node, items: []T{item}})
		}
		s.orphanItems++
	}
}

// end notes the stream's end. Its orphans stay: nodes still to come
// claim them.
func (s *side[T]) end() { s.done = true }

// complete gives each of the nodes toLookUp returned all its items, as
// looked up; the stream is then done for this listing.
func (s *side[T]) complete(entries []*joinEntry, items [][]T) {
	for i, e := range entries {
		*s.slot(e) = items[i]
	}
	s.end()
}

// lastNeededPos is the position of the last node the listing needs, or
// -1 when that is not known yet (more nodes may be needed).
func (j *joiner) lastNeededPos() int {
	switch {
	case j.lastNeeded >= 0:
		return j.lastNeeded
	case j.nodesDone && len(j.pending) > 0:
		return j.pending[len(j.pending)-1].pos
	case j.nodesDone:
		return j.next - 1
	}
	return -1
}

// nodesFinished: no more nodes need to be read for the listing itself.
func (j *joiner) nodesFinished() bool { return j.nodesDone || j.lastNeeded >= 0 }

// needs reports whether a side still has to deliver items for a pending
// node the listing needs.
func needs[T any](j *joiner, s *side[T]) bool {
	if s.done || len(j.pending) == 0 {
		return false
	}
	last := j.pending[len(j.pending)-1].pos
	if n := j.lastNeededPos(); n >= 0 {
		last = min(last, n)
	}
	return last >= j.pending[0].pos && !s.passed(last)
}

// lookupMax is the most nodes a side completes by looking each up
// rather than by reading its stream on.
const lookupMax = 4

// toLookUp: the nodes the listing still needs are all received and few,
// and the side has not completed them: one lookup of each (GET
// /v1/ports?node=) completes them, where the stream's next page would
// also read a page of nodes past the listing's end (re-read by the next
// page) — or, when the last of them have no items at all, could not tell
// that without a node past the limit.
func toLookUp[T any](j *joiner, s *side[T]) []*joinEntry {
	last := j.lastNeededPos()
	if !j.nodesFinished() || last < 0 || s.done {
		return nil
	}
	var open []*joinEntry
	for _, e := range j.pending {
		if e.pos > last {
			break
		}
		if !s.passed(e.pos) {
			if len(open) == lookupMax {
				return nil
			}
			open = append(open, e)
		}
	}
	return open
}

// stuck: the limit is reached, and the side has read a page of items of
// nodes not listed (ahead) while needed nodes are still open — those may have no
// items at all, which only a later listed node can tell: read nodes past
// the limit.
func stuck[T any](j *joiner, s *side[T]) bool {
	return j.lastNeeded >= 0 && !j.nodesDone && s.ahead() && needs(j, s)
}

// flush emits the leading pending nodes that are complete, up to the last
// needed one.
func (j *joiner) flush(emit func(*ironicNode, []ironicPort, []ironicPortgroup) error) error {
	n := 0
	defer func() { j.pending = j.pending[n:] }()
	for _, e := range j.pending {
		if j.stopped || !j.ports.passed(e.pos) || !j.portgroups.passed(e.pos) {
			break
		}
		delete(j.byUUID, e.node.UUID)
		n++
		if e.pos == j.lastNeeded {
			j.stopped = true
		}
		if err := emit(&e.node, e.ports, e.pgs); err != nil {
			return err
		}
	}
	return nil
}

// finished: every node the listing needs is emitted.
func (j *joiner) finished() bool { return j.stopped || (j.nodesDone && len(j.pending) == 0) }
