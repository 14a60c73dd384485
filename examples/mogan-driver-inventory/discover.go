package main

import (
	"context"
	"slices"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// ListManageableNodes sends the nodes in the file's order, after the
// marker, of the resource class asked for, at most Limit of them.
func (d *inventory) ListManageableNodes(ctx context.Context, o driver.ListOptions, send func(driver.Node) error) error {
	after := slices.IndexFunc(d.nodes, func(n driver.Node) bool { return n.UUID == o.Marker }) // -1: none
	for _, n := range d.nodes[after+1:] {
		if (o.ResourceClass != "" && n.ResourceClass != o.ResourceClass) || (!n.Manageable && !o.IncludeUnmanageable) {
			continue
		}
		if err := send(n); err != nil || o.Limit == 1 {
			return err
		}
		o.Limit-- // from 0 (no limit) it goes negative and never stops the loop
	}
	return ctx.Err()
}

// GetManageableNode re-validates a node before adoption: the same rule as
// the listing (the file's Manageable), ErrNodeNotFound for a stranger.
func (d *inventory) GetManageableNode(_ context.Context, nodeUUID string) (driver.Node, error) {
	if i := slices.IndexFunc(d.nodes, func(n driver.Node) bool { return n.UUID == nodeUUID }); i >= 0 {
		return d.nodes[i], nil
	}
	return driver.Node{}, driver.NotFound("node %s is not in the inventory", nodeUUID)
}
