package main

import (
	"context"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// Manage remembers the association in this process only (a restarted
// plugin has forgotten it): enough for GetNodeStates to tell the host's
// reconciler the truth while the plugin lives.
func (d *testDriver) Manage(ctx context.Context, req driver.ManageRequest) (driver.Node, error) {
	n, err := d.get(ctx, "Manage", func(c control) string { return c.Manage }, req.NodeUUID)
	if err != nil {
		return driver.Node{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if cur := d.assoc[req.NodeUUID]; cur != "" && cur != req.ServerUUID {
		return driver.Node{}, driver.Conflict("node %s is associated with instance %s", req.NodeUUID, cur)
	}
	if d.assoc == nil {
		d.assoc = map[string]string{}
	}
	d.assoc[req.NodeUUID] = req.ServerUUID
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
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.assoc[req.NodeUUID] == req.ServerUUID {
		delete(d.assoc, req.NodeUUID)
	}
	return nil
}
