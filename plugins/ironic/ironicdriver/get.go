package ironicdriver

import (
	"context"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"
	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/nodefilter"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// GetManageableNode re-validates one node: NotFound when Ironic does not
// know it; otherwise the node with its ports and portgroups, Manageable
// false with the reason when it cannot be adopted (the contract's one rule,
// unmanageableReason, as in the listing).
func (d *Driver) GetManageableNode(ctx context.Context, nodeUUID string) (driver.Node, error) {
	sc, err := d.serviceClient(ctx)
	if err != nil {
		return driver.Node{}, err
	}
	if err := checkUUID(nodeUUID); err != nil {
		return driver.Node{}, err
	}
	var n ironicNode
	node, err := fetchNode(ctx, sc, nodeUUID, func(ctx context.Context) error {
		return nodefilter.Get(ctx, sc, nodeUUID, nodeFields).ExtractInto(&n)
	}, &n)
	if err != nil {
		return driver.Node{}, err
	}
	return node, nil
}

// fetchNode runs getNode (which fills *n) and fetches the node's ports and
// portgroups at the same time: one round trip instead of three.
func fetchNode(ctx context.Context, sc *gophercloud.ServiceClient, nodeUUID string, getNode func(context.Context) error, n *ironicNode) (driver.Node, error) {
	var ps []ironicPort
	var pgs []ironicPortgroup
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return getNode(gctx) })
	g.Go(func() error {
		page, err := nodeItems(gctx, sc, "ports", nodeUUID, portFields)
		if err == nil {
			ps = page.Ports
		}
		return err
	})
	g.Go(func() error {
		page, err := nodeItems(gctx, sc, "portgroups", nodeUUID, portgroupFields)
		if err == nil {
			pgs = page.Portgroups
		}
		return err
	})
	if err := g.Wait(); err != nil {
		if gophercloud.ResponseCodeIs(err, 404) {
			return driver.Node{}, driver.NotFound("node %s not found in Ironic", nodeUUID)
		}
		return driver.Node{}, classify(err, "ironic", sc.Endpoint)
	}
	return toNode(n, ps, pgs), nil
}

// checkUUID refuses what is not a UUID: Ironic would look a name up
// instead, and a node is named here by its UUID only.
func checkUUID(nodeUUID string) error {
	if _, err := uuid.Parse(nodeUUID); err != nil {
		return driver.NotFound("node %q not found: not a UUID", nodeUUID)
	}
	return nil
}
