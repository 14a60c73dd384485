package ironicdriver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// pageSize is the page the driver asks for: Ironic's default [api]
// max_limit, its largest. A smaller configured max_limit caps it, and the
// next pages carry on.
const pageSize = 1000

// errStopListing ends a listing early (the caller's limit is reached).
var errStopListing = errors.New("enough nodes")

// ListManageableNodes streams the adoptable nodes (with
// IncludeUnmanageable, every node, with the reason the others are not),
// in Ironic's node order, each with its ports and portgroups.
//
// Three listings are read at once — nodes, ports and portgroups, the
// latter two sorted by node (node_id, the order nodes come in) — and
// joined as they come (join.go), a page at a time and only on demand: a
// stream's next page is asked for when the join has consumed the previous
// one and still needs it, and while the stream is not more than about a
// page ahead of the others. So a listing with a limit reads the node
// pages the limit needs and the port pages those nodes need (the last
// few nodes looked up one by one rather than reading a page past them),
// and the plugin's memory is a few pages whatever the number of nodes.
// Each page is decoded once, straight into the driver's structs
// (page.go). A page
// after the first resumes the port streams where the previous page
// stopped (resume.go).
func (d *Driver) ListManageableNodes(ctx context.Context, opts driver.ListOptions, send func(driver.Node) error) error {
	sc, err := d.serviceClient(ctx)
	if err != nil {
		return err
	}
	nq := fieldsQuery(nodeFields)
	if opts.ResourceClass != "" {
		nq.Set("resource_class", opts.ResourceClass)
	}
	if !opts.IncludeUnmanageable {
		// What Ironic can filter it does; resource_class unset it cannot,
		// so those few are dropped below.
		nq.Set("provision_state", "active")
		nq.Set("associated", "false")
		nq.Set("maintenance", "false")
	}
	var at cursor
	if opts.Marker != "" {
		if at, err = d.resumeAt(ctx, sc, opts.Marker); err != nil {
			return classify(err, "ironic", sc.Endpoint)
		}
	}
	sorted := func(fields []string) url.Values {
		q := fieldsQuery(fields)
		q.Set("sort_key", "node_id")
		return q
	}
	l := &listing{
		sc:  sc,
		log: d.log,
		j: newJoiner(opts.Limit, func(n *ironicNode) bool {
			return opts.IncludeUnmanageable || unmanageableReason(n) == ""
		}),
		nodes:      stream{q: pageQuery{resource: "nodes", query: nq, marker: opts.Marker}, resumed: opts.Marker != ""},
		ports:      stream{q: pageQuery{resource: "ports", query: sorted(portFields), marker: at.port}, resumed: at.port != ""},
		portgroups: stream{q: pageQuery{resource: "portgroups", query: sorted(portgroupFields), marker: at.portgroup}, resumed: at.portgroup != ""},
		results:    make(chan fetched, 5),
	}

	sent := 0
	lastNode := ""
	err = l.run(ctx, func(n *ironicNode, ps []ironicPort, pgs []ironicPortgroup) error {
		// Where the next page resumes if this listing ends here.
		if len(ps) > 0 {
			at.port = ps[len(ps)-1].UUID
		}
		if len(pgs) > 0 {
			at.portgroup = pgs[len(pgs)-1].UUID
		}
		lastNode = n.UUID
		node := toNode(n, ps, pgs)
		if !node.Manageable && !opts.IncludeUnmanageable {
			return nil
		}
		if err := send(node); err != nil {
			return err
		}
		sent++
		if opts.Limit > 0 && sent >= opts.Limit {
			return errStopListing
		}
		return nil
	})
	if lastNode != "" {
		d.cursors.put(lastNode, at)
	}
	var fe *fetchError
	switch {
	case err == nil, errors.Is(err, errStopListing):
		return nil
	case errors.As(err, &fe) && fe.atMarker && gophercloud.ResponseCodeIs(fe.err, 404):
		return driver.InvalidArgument("marker %s: no such node in Ironic", opts.Marker)
	case errors.As(err, &fe):
		return classify(fe.err, "ironic", sc.Endpoint)
	}
	return err
}

// listing reads the three streams of one listing on the join's demand.
type listing struct {
	sc  *gophercloud.ServiceClient
	log hclog.Logger
	j   *joiner

	nodes, ports, portgroups stream

	results  chan fetched // one slot per kind of request: never blocks
	inFlight int
	wg       sync.WaitGroup
}

// stream is where one of the three listings stands.
type stream struct {
	q pageQuery // the next page's request
	// resumed: q.marker is where the caller's page or a remembered
	// resume point is, which Ironic answers 404 for when it has been
	// deleted since.
	resumed    bool
	busy, done bool
}

type fetchKind int

const (
	nodePage fetchKind = iota
	portPage
	portgroupPage
	portLookups      // the last needed nodes' ports, node by node
	portgroupLookups // and their portgroups
)

type fetched struct {
	kind    fetchKind
	page    *ironicPage
	entries []*joinEntry  // of lookups
	lookups []*ironicPage // their answers
	err     error
}

// fetchError is a failed Ironic request, with the resource it was for;
// atMarker: it was the node stream's first, after the caller's marker.
type fetchError struct {
	resource string
	atMarker bool
	err      error
}

func (e *fetchError) Error() string { return fmt.Sprintf("listing %s: %v", e.resource, e.err) }
func (e *fetchError) Unwrap() error { return e.err }

// run joins the streams and emits each node, reading pages as the join
// asks for them; it returns emit's error (errStopListing included) or the
// first failed request's.
//
// emit (the gRPC send to the host) runs in its own goroutine behind a
// buffer of a page of nodes: while the host is slow to take them, the
// join goes on asking Ironic for what it needs, as a raw fetch would.
func (l *listing) run(ctx context.Context, emit func(*ironicNode, []ironicPort, []ironicPortgroup) error) error {
	ctx, cancel := context.WithCancel(ctx)
	type joined struct {
		node *ironicNode
		ps   []ironicPort
		pgs  []ironicPortgroup
	}
	out := make(chan joined, pageSize)
	var emitErr error
	emitted := make(chan struct{})
	go func() {
		defer close(emitted)
		for n := range out {
			if emitErr != nil {
				continue // drain
			}
			if emitErr = emit(n.node, n.ps, n.pgs); emitErr != nil {
				cancel()
			}
		}
	}()
	err := l.join(ctx, func(n *ironicNode, ps []ironicPort, pgs []ironicPortgroup) error {
		select {
		case out <- joined{n, ps, pgs}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(out)
	<-emitted
	// Done (or failed): requests still in flight are abandoned.
	cancel()
	l.wg.Wait()
	if emitErr != nil {
		return emitErr
	}
	return err
}

// join is run's loop: it reads what the join needs and hands each node
// on to emit as soon as it is complete.
func (l *listing) join(ctx context.Context, emit func(*ironicNode, []ironicPort, []ironicPortgroup) error) error {
	j := l.j
	for !j.finished() {
		l.schedule(ctx)
		if l.inFlight == 0 {
			l.unblock(ctx)
		}
		if l.inFlight == 0 {
			return errors.New("ironic listing: the join is stalled") // a bug: nothing to read, nothing to emit
		}
		var r fetched
		select {
		case <-ctx.Done():
			return ctx.Err()
		case r = <-l.results:
		}
		l.inFlight--
		if err := l.take(r); err != nil {
			return err
		}
		if err := j.flush(emit); err != nil {
			return err
		}
	}
	return nil
}

// schedule starts the reads the join needs now.
func (l *listing) schedule(ctx context.Context) {
	j := l.j
	// Ports and portgroups: while a needed node is open and the stream is
	// not a page ahead of the nodes (its orphans); the last few open
	// nodes are completed by a lookup of each rather than a page past
	// them (toLookUp).
	for _, kind := range []fetchKind{portPage, portgroupPage} {
		var (
			st          = l.stream(kind)
			need, ahead bool
			open        []*joinEntry
		)
		if kind == portPage {
			need, ahead, open = needs(j, &j.ports), j.ports.ahead(), toLookUp(j, &j.ports)
		} else {
			need, ahead, open = needs(j, &j.portgroups), j.portgroups.ahead(), toLookUp(j, &j.portgroups)
		}
		switch {
		case st.busy || st.done:
		case len(open) > 0:
			l.startLookups(ctx, kind, open)
		case (need || readAhead(j, kind)) && !ahead:
			l.start(ctx, kind)
		}
	}
	// Nodes: until the limit's worth has come (or past it, when a port
	// stream a page ahead can only tell where it stands from a later
	// node), and not more than about a page ahead of the port streams
	// (a page pending and the next one read).
	if !l.nodes.busy && !l.nodes.done && len(j.pending) < 2*pageSize &&
		(j.lastNeeded < 0 || stuck(j, &j.ports) || stuck(j, &j.portgroups)) {
		l.start(ctx, nodePage)
	}
}

// readAhead: the side may read a page into nodes still to come, so that
// the three streams stay in flight together, as a raw fetch's do: in a
// listing without limit, always (up to a page ahead: ahead); with a
// limit, only its first page, asked for with the first node page.
func readAhead(j *joiner, kind fetchKind) bool {
	pages := j.ports.pages
	if kind == portgroupPage {
		pages = j.portgroups.pages
	}
	return !j.nodesFinished() && (j.limit == 0 || pages == 0)
}

// unblock reads something when schedule's bounds leave nothing in flight
// and nothing to emit: a port stream a page ahead over nodes the listing
// filters out, or a stuck one with a page of nodes already pending.
func (l *listing) unblock(ctx context.Context) {
	j := l.j
	switch {
	case !l.ports.done && needs(j, &j.ports):
		l.start(ctx, portPage)
	case !l.portgroups.done && needs(j, &j.portgroups):
		l.start(ctx, portgroupPage)
	case !l.nodes.done:
		l.start(ctx, nodePage)
	}
}

func (l *listing) stream(kind fetchKind) *stream {
	switch kind {
	case portPage, portLookups:
		return &l.ports
	case portgroupPage, portgroupLookups:
		return &l.portgroups
	}
	return &l.nodes
}

// start reads the stream's next page.
func (l *listing) start(ctx context.Context, kind fetchKind) {
	st := l.stream(kind)
	q := st.q
	q.limit = pageSize
	if kind == nodePage && l.j.limit > 0 && l.j.lastNeeded < 0 {
		q.limit = min(pageSize, l.j.limit-l.j.candidates)
	}
	st.busy = true
	l.inFlight++
	l.wg.Go(func() {
		page, err := getPage(ctx, l.sc, q)
		l.results <- fetched{kind: kind, page: page, err: err}
	})
}

// startLookups reads all the items of each of the entries, one request
// each, at once.
func (l *listing) startLookups(ctx context.Context, kind fetchKind, entries []*joinEntry) {
	st := l.stream(kind)
	resource, fields, lookupKind := "ports", portFields, portLookups
	if kind == portgroupPage {
		resource, fields, lookupKind = "portgroups", portgroupFields, portgroupLookups
	}
	st.busy = true
	l.inFlight++
	l.wg.Go(func() {
		pages := make([]*ironicPage, len(entries))
		g, gctx := errgroup.WithContext(ctx)
		for i, e := range entries {
			g.Go(func() (err error) {
				pages[i], err = nodeItems(gctx, l.sc, resource, e.node.UUID, fields)
				return err
			})
		}
		err := g.Wait()
		l.results <- fetched{kind: lookupKind, lookups: pages, entries: entries, err: err}
	})
}

// take hands a fetched page to the join and moves its stream on.
func (l *listing) take(r fetched) error {
	st := l.stream(r.kind)
	st.busy = false
	j := l.j
	if r.err != nil {
		if st.resumed && st.q.marker != "" && gophercloud.ResponseCodeIs(r.err, 404) && (r.kind == portPage || r.kind == portgroupPage) {
			// The resume point was deleted since: read from the start.
			l.log.Debug("the listing's resume point is gone; reading from the start", "resource", st.q.resource, "marker", st.q.marker)
			st.q.marker, st.resumed = "", false
			return nil
		}
		return &fetchError{resource: st.q.resource, atMarker: r.kind == nodePage && st.resumed, err: r.err}
	}
	st.resumed = false
	switch r.kind {
	case portLookups:
		items := make([][]ironicPort, len(r.lookups))
		for i, p := range r.lookups {
			items[i] = p.Ports
		}
		j.ports.complete(r.entries, items)
		st.done = true
		return nil
	case portgroupLookups:
		items := make([][]ironicPortgroup, len(r.lookups))
		for i, p := range r.lookups {
			items[i] = p.Portgroups
		}
		j.portgroups.complete(r.entries, items)
		st.done = true
		return nil
	case nodePage:
		j.addNodes(r.page.Nodes)
	case portPage:
		j.ports.take(j, r.page.Ports)
	case portgroupPage:
		j.portgroups.take(j, r.page.Portgroups)
	}
	n, last := r.page.itemsOf(st.q.resource)
	if r.page.Next == "" || n == 0 {
		st.done = true
		switch r.kind {
		case nodePage:
			j.endNodes()
		case portPage:
			j.ports.end()
		case portgroupPage:
			j.portgroups.end()
		}
		return nil
	}
	st.q.marker = last
	return nil
}
