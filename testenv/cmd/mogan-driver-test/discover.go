package main

import (
	"context"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

func (d *testDriver) ListManageableNodes(ctx context.Context, opts driver.ListOptions, send func(driver.Node) error) error {
	c, err := d.control()
	if err != nil {
		return err
	}
	count := c.count()
	start := 0
	if opts.Marker != "" {
		i, ok := nodeIndex(opts.Marker, count)
		if !ok {
			return driver.NotFound("marker %s is not a node of this driver", opts.Marker)
		}
		start = i + 1
	}
	sent := 0
	for i := start; i < count; i++ {
		if opts.Limit > 0 && sent >= opts.Limit {
			return nil
		}
		if !listed(i, opts) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if sent >= c.After {
			if err := misbehave(ctx, c, c.List, "ListManageableNodes", nodeUUID(i)); err != nil {
				return err
			}
		}
		if err := send(node(i)); err != nil {
			return err
		}
		sent++
	}
	return nil
}

func (d *testDriver) GetManageableNode(ctx context.Context, nodeUUID string) (driver.Node, error) {
	return d.get(ctx, "GetManageableNode", func(c control) string { return c.Get }, nodeUUID)
}

// get finds a node after carrying out the call's mode. A node that cannot
// be managed comes back with Manageable false and its reason, as the
// contract says; the "not_manageable" mode answers the older
// NotManageable error instead, which hosts still accept.
func (d *testDriver) get(ctx context.Context, call string, mode func(control) string, uuid string) (driver.Node, error) {
	c, err := d.control()
	if err != nil {
		return driver.Node{}, err
	}
	if m := mode(c); m == modeSlow || m == modeHang {
		// A test waits for this line to know the call reached the plugin.
		d.log.Info("call is waiting", "call", call, "mode", m)
	}
	if err := misbehave(ctx, c, mode(c), call, uuid); err != nil {
		return driver.Node{}, err
	}
	i, ok := nodeIndex(uuid, c.count())
	if !ok {
		return driver.Node{}, driver.NotFound("node %s not found", uuid)
	}
	return node(i), nil
}
