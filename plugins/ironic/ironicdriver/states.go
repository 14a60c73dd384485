package ironicdriver

import (
	"context"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/pagination"
	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/nodefilter"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// stateFields are all GetNodeStates reads of a node.
var stateFields = []string{"uuid", "instance_uuid", "power_state", "provision_state"}

// listStatesAbove is the batch size from which GetNodeStates lists the
// associated nodes page by page instead of reading each node: 1000 nodes
// cost one request listed, 1000 read one by one.
const listStatesAbove = 20

// getConcurrency bounds the parallel single-node reads.
const getConcurrency = 8

// GetNodeStates reads each node's association and power. A small batch is
// read node by node (concurrently); a large one from the listing of
// associated nodes — adopted nodes are associated — with the few not in it
// (released or deleted behind our back) read one by one.
func (d *Driver) GetNodeStates(ctx context.Context, nodeUUIDs []string) ([]driver.NodeState, error) {
	sc, err := d.serviceClient(ctx)
	if err != nil {
		return nil, err
	}
	found := map[string]driver.NodeState{}
	if len(nodeUUIDs) > listStatesAbove {
		if found, err = associatedStates(ctx, sc, nodeUUIDs); err != nil {
			return nil, err
		}
	}
	var missing []string
	for _, id := range nodeUUIDs {
		if _, ok := found[id]; !ok {
			missing = append(missing, id)
		}
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(getConcurrency)
	for _, id := range missing {
		g.Go(func() error {
			st, err := nodeState(gctx, sc, id)
			if err != nil {
				return err
			}
			mu.Lock()
			found[id] = st
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	states := make([]driver.NodeState, len(nodeUUIDs))
	for i, id := range nodeUUIDs {
		states[i] = found[id]
	}
	return states, nil
}

// nodeState reads one node; a node Ironic does not know (or a string that
// is no UUID, which Ironic would take for a name) does not exist.
func nodeState(ctx context.Context, sc *gophercloud.ServiceClient, id string) (driver.NodeState, error) {
	if checkUUID(id) != nil {
		return driver.NodeState{NodeUUID: id}, nil
	}
	var n ironicNode
	err := nodefilter.Get(ctx, sc, id, stateFields).ExtractInto(&n)
	if gophercloud.ResponseCodeIs(err, 404) {
		return driver.NodeState{NodeUUID: id}, nil
	}
	if err != nil {
		return driver.NodeState{}, classify(err, "ironic", sc.Endpoint)
	}
	return stateOf(id, &n), nil
}

// associatedStates lists every associated node and keeps those asked for.
func associatedStates(ctx context.Context, sc *gophercloud.ServiceClient, want []string) (map[string]driver.NodeState, error) {
	wanted := make(map[string]bool, len(want))
	for _, id := range want {
		wanted[id] = true
	}
	found := make(map[string]driver.NodeState, len(want))
	pager := nodefilter.List(sc, nodefilter.ListOpts{Associated: nodefilter.Bool(true), Fields: stateFields, Limit: pageSize})
	err := pager.EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
		var ns []ironicNode
		if err := nodefilter.ExtractNodesInto(page, &ns); err != nil {
			return false, err
		}
		for i := range ns {
			if wanted[ns[i].UUID] {
				found[ns[i].UUID] = stateOf(ns[i].UUID, &ns[i])
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, classify(err, "ironic", sc.Endpoint)
	}
	return found, nil
}

func stateOf(id string, n *ironicNode) driver.NodeState {
	return driver.NodeState{
		NodeUUID:       id,
		Exists:         true,
		InstanceUUID:   n.InstanceUUID,
		PowerState:     n.PowerState,
		ProvisionState: n.ProvisionState,
	}
}
