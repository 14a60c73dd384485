package main

import (
	"context"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// GetNodeStates follows the "get" mode (it is a read too). The driver keeps
// no state, so a known node exists, unassociated and powered on; an
// unknown one does not exist.
func (d *testDriver) GetNodeStates(ctx context.Context, nodeUUIDs []string) ([]driver.NodeState, error) {
	c, err := d.control()
	if err != nil {
		return nil, err
	}
	if err := misbehave(ctx, c, c.Get, "GetNodeStates", ""); err != nil {
		return nil, err
	}
	states := make([]driver.NodeState, len(nodeUUIDs))
	for i, id := range nodeUUIDs {
		states[i] = driver.NodeState{NodeUUID: id}
		if _, ok := nodeIndex(id, c.count()); ok {
			states[i].Exists = true
			states[i].PowerState = "power on"
			states[i].ProvisionState = "active"
		}
	}
	return states, nil
}
