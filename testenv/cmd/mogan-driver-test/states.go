package main

import (
	"context"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// GetNodeStates follows the "get" mode (it is a read too). A known node
// exists, powered on, associated as Manage left it in this process; an
// unknown one does not exist.
func (d *testDriver) GetNodeStates(ctx context.Context, nodeUUIDs []string) ([]driver.NodeState, error) {
	c, err := d.control()
	if err != nil {
		return nil, err
	}
	if err := misbehave(ctx, c, c.Get, "GetNodeStates", ""); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	states := make([]driver.NodeState, len(nodeUUIDs))
	for i, id := range nodeUUIDs {
		states[i] = driver.NodeState{NodeUUID: id}
		if _, ok := nodeIndex(id, c.count()); ok {
			states[i].Exists = true
			states[i].PowerState = "power on"
			states[i].ProvisionState = "active"
			states[i].InstanceUUID = d.assoc[id]
		}
	}
	return states, nil
}
