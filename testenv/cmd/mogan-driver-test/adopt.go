package main

import (
	"context"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// Manage keeps no state: it answers as if the node were now the server's.
func (d *testDriver) Manage(ctx context.Context, req driver.ManageRequest) (driver.Node, error) {
	n, err := d.get(ctx, "Manage", func(c control) string { return c.Manage }, req.NodeUUID)
	if err != nil {
		return driver.Node{}, err
	}
	n.InstanceUUID = req.ServerUUID
	return n, nil
}

func (d *testDriver) Unmanage(ctx context.Context, req driver.ManageRequest) error {
	c, err := d.control()
	if err != nil {
		return err
	}
	if err := misbehave(ctx, c, c.Unmanage, "Unmanage", req.NodeUUID); err != nil {
		return err
	}
	if _, ok := nodeIndex(req.NodeUUID, c.count()); !ok {
		return driver.NotFound("node %s not found", req.NodeUUID)
	}
	return nil
}
