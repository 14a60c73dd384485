package ironicdriver

import (
	"context"
	"errors"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/nodefilter"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// Manage associates the node with the server by setting its instance_uuid
// and, in the same PATCH, the interlock (interlock.go): protected with
// the server's reason, automated_clean off, the prior values kept. One
// read of the node first gives those prior values; the PATCH's answer is
// the node as the association left it. A node already associated with
// this server is success (the call is idempotent); with another instance
// it is a conflict. The answer is judged as if the node were not
// associated: a node that changed since it was validated comes back not
// manageable, and the host undoes the association. One that left active
// cannot be protected, so it is not associated at all.
func (d *Driver) Manage(ctx context.Context, req driver.ManageRequest) (driver.Node, error) {
	sc, err := d.serviceClient(ctx)
	if err != nil {
		return driver.Node{}, err
	}
	if err := checkUUID(req.NodeUUID); err != nil {
		return driver.Node{}, err
	}
	var before interlockNode
	if err := nodefilter.Get(ctx, sc, req.NodeUUID, interlockFields).ExtractInto(&before); err != nil {
		if gophercloud.ResponseCodeIs(err, 404) {
			return driver.Node{}, driver.NotFound("node %s not found in Ironic", req.NodeUUID)
		}
		return driver.Node{}, classify(err, "ironic", sc.Endpoint)
	}
	n := before.ironicNode
	switch {
	case n.InstanceUUID == req.ServerUUID:
		// Done by an earlier call.
	case n.InstanceUUID != "":
		return driver.Node{}, driver.Conflict("node %s is associated with instance %s", req.NodeUUID, n.InstanceUUID)
	case n.ProvisionState != "active":
		// Ironic protects active nodes only: nothing to associate.
		node := toNode(&n, nil, nil)
		requestid.Logger(ctx, d.log).Warn("node changed since it was validated", "node", req.NodeUUID, "reason", node.Reason)
		return node, nil
	default:
		err = d.patch(ctx, sc, req.NodeUUID, manageOps(&before, req.ServerUUID), &n)
		if isConflict(err) {
			// Associated meanwhile: with this server is done, with
			// another a conflict. One read of the node tells which.
			if gerr := nodefilter.Get(ctx, sc, req.NodeUUID, nodeFields).ExtractInto(&n); gerr != nil {
				return driver.Node{}, err
			}
			if n.InstanceUUID != req.ServerUUID {
				return driver.Node{}, err
			}
		} else if err != nil {
			return driver.Node{}, err
		}
	}
	n.InstanceUUID = "" // judge the node as it was before this association
	node := toNode(&n, nil, nil)
	node.InstanceUUID = req.ServerUUID
	if node.Manageable {
		requestid.Logger(ctx, d.log).Info("node managed", "node", req.NodeUUID, "server", req.ServerUUID)
	} else {
		requestid.Logger(ctx, d.log).Warn("node changed since it was validated", "node", req.NodeUUID, "reason", node.Reason)
	}
	return node, nil
}

// Unmanage removes the node's instance_uuid if it is still this server's,
// and in the same PATCH restores what the interlock changed (a node
// adopted before the interlock existed has nothing to restore). A node
// that is gone or belongs to another instance is left alone. (Ironic's
// JSON patch has no "test" operation, so the check and the removal are two
// requests; the window between them is one round trip.)
func (d *Driver) Unmanage(ctx context.Context, req driver.ManageRequest) error {
	sc, err := d.serviceClient(ctx)
	if err != nil {
		return err
	}
	if checkUUID(req.NodeUUID) != nil {
		return nil
	}
	var n interlockNode
	err = nodefilter.Get(ctx, sc, req.NodeUUID, []string{"uuid", "instance_uuid", "extra"}).ExtractInto(&n)
	switch {
	case gophercloud.ResponseCodeIs(err, 404):
		requestid.Logger(ctx, d.log).Info("unmanage: node is gone", "node", req.NodeUUID)
		return nil
	case err != nil:
		return classify(err, "ironic", sc.Endpoint)
	case n.InstanceUUID != req.ServerUUID:
		requestid.Logger(ctx, d.log).Info("unmanage: node is not this server's; left alone", "node", req.NodeUUID, "server", req.ServerUUID, "instance_uuid", n.InstanceUUID)
		return nil
	}
	var after ironicNode
	// patch's errors are classified already: a node deleted since the
	// check is NotFound, not a 404.
	err = d.patch(ctx, sc, req.NodeUUID, unmanageOps(&n, true), &after)
	log := requestid.Logger(ctx, d.log)
	if errors.Is(err, driver.ErrInvalidState) && n.Extra.Interlock != nil && n.Extra.Interlock.Protected {
		// Ironic protects active (and rescued) nodes only: one that left
		// active since (someone lifted our protection) cannot get its
		// earlier protection back, so its protection stays as it is.
		log.Warn("node left active since it was adopted: its earlier protection cannot be restored, it is left as it is",
			"node", req.NodeUUID, "error", err)
		err = d.patch(ctx, sc, req.NodeUUID, unmanageOps(&n, false), &after)
	}
	if errors.Is(err, driver.ErrNodeNotFound) {
		log.Info("unmanage: node is gone", "node", req.NodeUUID)
		return nil
	}
	if err != nil {
		return classify(err, "ironic", sc.Endpoint)
	}
	log.Info("node unmanaged", "node", req.NodeUUID, "server", req.ServerUUID, "interlock_restored", n.Extra.Interlock != nil)
	return nil
}

// patch applies JSON-patch operations to a node in one request, retrying
// while Ironic answers NodeLocked, and decodes the updated node into out.
// It returns classified errors; a NodeLocked that outlasts the retries is
// a conflict saying so.
func (d *Driver) patch(ctx context.Context, sc *gophercloud.ServiceClient, nodeUUID string, ops nodes.UpdateOpts, out any) error {
	return d.whileLocked(ctx, sc, d.lockRetry, nodeUUID, func() error {
		return nodes.Update(ctx, sc, nodeUUID, ops).ExtractInto(out)
	})
}

func isConflict(err error) bool {
	return errors.Is(err, driver.ErrConflict)
}
