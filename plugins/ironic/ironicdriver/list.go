package ironicdriver

import (
	"context"
	"errors"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/pagination"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/nodefilter"
	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/portgroups"
	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/portlist"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// pageSize is the page the driver asks for: Ironic's default [api]
// max_limit, its largest. A smaller configured max_limit caps it, and the
// next links carry on.
const pageSize = 1000

// errStopListing ends a listing early (the caller's limit is reached).
var errStopListing = errors.New("enough nodes")

// ListManageableNodes streams the adoptable nodes (with
// IncludeUnmanageable, every node, with the reason the others are not),
// in Ironic's node order, each with its ports and portgroups.
func (d *Driver) ListManageableNodes(ctx context.Context, opts driver.ListOptions, send func(driver.Node) error) error {
	sc, err := d.serviceClient(ctx)
	if err != nil {
		return err
	}
	nf := nodefilter.ListOpts{
		ResourceClass: opts.ResourceClass,
		Fields:        nodeFields,
		Limit:         pageSize,
		Marker:        opts.Marker,
	}
	if opts.Limit > 0 && opts.Limit < pageSize {
		nf.Limit = opts.Limit
	}
	if !opts.IncludeUnmanageable {
		// What Ironic can filter it does; resource_class unset it cannot,
		// so those few are dropped below.
		nf.ProvisionState = nodes.Active
		nf.Associated = nodefilter.Bool(false)
		nf.Maintenance = nodefilter.Bool(false)
	}
	// Ports and portgroups sorted by node (node_id, the order nodes come
	// in) let the join send nodes before the whole port list is read; a
	// page after the first resumes them where the previous page stopped
	// (resume.go).
	var at cursor
	if opts.Marker != "" {
		if at, err = d.resumeAt(ctx, sc, opts.Marker); err != nil {
			return classify(err, "ironic", sc.Endpoint)
		}
	}
	nodePager := nodefilter.List(sc, nf)
	portPager := func(marker string) pagination.Pager {
		return portlist.List(sc, portlist.ListOpts{Fields: portFields, SortKey: "node_id", Limit: pageSize, Marker: marker})
	}
	pgPager := func(marker string) pagination.Pager {
		return portgroups.List(sc, portgroups.ListOpts{Fields: portgroupFields, SortKey: "node_id", Limit: pageSize, Marker: marker})
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	nodeCh := make(chan []ironicNode, 2)
	portCh := make(chan []ironicPort, 2)
	pgCh := make(chan []ironicPortgroup, 2)
	g.Go(func() error { return fetch(gctx, nodePager, nodefilter.ExtractNodesInto, nodeCh) })
	g.Go(func() error { return fetchResumed(gctx, d.log, portPager, at.port, portlist.ExtractPortsInto, portCh) })
	g.Go(func() error {
		return fetchResumed(gctx, d.log, pgPager, at.portgroup, portgroups.ExtractPortgroupsInto, pgCh)
	})

	sent := 0
	lastNode := ""
	var j joiner
	joinErr := j.run(gctx, nodeCh, portCh, pgCh, func(n *ironicNode, ps []ironicPort, pgs []ironicPortgroup) error {
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
	// Done (or failed): the fetchers still reading ports stop here.
	cancel()
	fetchErr := g.Wait()
	switch {
	case joinErr == nil:
		return nil
	case fetchErr != nil && !errors.Is(fetchErr, context.Canceled):
		if opts.Marker != "" && gophercloud.ResponseCodeIs(fetchErr, 404) {
			return driver.InvalidArgument("marker %s: no such node in Ironic", opts.Marker)
		}
		return classify(fetchErr, "ironic", sc.Endpoint)
	}
	return joinErr
}

// fetchResumed is fetch starting after marker; a marker Ironic no longer
// knows (deleted since) makes it read from the start instead.
func fetchResumed[T any](ctx context.Context, log hclog.Logger, pager func(marker string) pagination.Pager, marker string,
	extract func(pagination.Page, any) error, out chan<- []T,
) error {
	err := fetch(ctx, pager(marker), extract, out)
	if marker != "" && gophercloud.ResponseCodeIs(err, 404) {
		log.Debug("the listing's resume point is gone; reading from the start", "marker", marker)
		return fetch(ctx, pager(""), extract, out)
	}
	return err
}

// fetch pages through pager, decoding each page into []T and sending it
// on out, which it closes when the listing is complete — and only then, so
// that a failed listing never looks finished to the join.
func fetch[T any](ctx context.Context, pager pagination.Pager, extract func(pagination.Page, any) error, out chan<- []T) error {
	err := pager.EachPage(ctx, func(ctx context.Context, page pagination.Page) (bool, error) {
		var items []T
		if err := extract(page, &items); err != nil {
			return false, err
		}
		select {
		case out <- items:
			return true, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	})
	if err == nil {
		close(out)
	}
	return err
}
