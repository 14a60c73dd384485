package ironicdriver

import (
	"context"
	"errors"
	"slices"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// deletableStates are where Ironic deletes a node out of maintenance
// (ironic/common/states.py, DELETE_ALLOWED_STATES): a node that never
// became active. Elsewhere it is put in maintenance first, which lets
// Ironic delete it in any state — deleting the record only: the machine
// is not touched.
var deletableStates = []string{stateEnroll, stateManageable, stateAdoptFailed}

// DeleteEnrolled undoes EnrollNode: it deletes the node, with its ports
// and portgroups, only if it carries this migration's marker and no
// instance is associated with it. It lifts the protection EnrollNode set
// (never another's) and, for a node in a state Ironic does not delete,
// turns maintenance on with a reason naming the migration; it retries
// while a conductor holds the node (verifying, adopting), within the
// call's deadline. A node that is gone is success.
func (d *Driver) DeleteEnrolled(ctx context.Context, migrationID, nodeUUID string) error {
	sc, err := d.serviceClient(ctx)
	if err != nil {
		return err
	}
	if checkUUID(nodeUUID) != nil {
		return nil // no node has it
	}
	n, err := getEnrollNode(ctx, sc, nodeUUID)
	if err != nil || n == nil {
		return err
	}
	reason := migrationReason(migrationID)
	switch {
	case migrationID == "" || n.Extra.MigrationID != migrationID:
		return driver.Conflict("node %s was not enrolled by migration %s%s: left alone", nodeUUID, migrationID, markedBy(n.Extra.MigrationID))
	case n.InstanceUUID != "":
		return driver.Conflict("node %s is associated with instance %s: unmanage its server first; left alone", nodeUUID, n.InstanceUUID)
	case n.Protected && n.ProtectedReason != reason:
		return driver.NodeProtected("node %s is protected by someone else (%q): lift that protection in Ironic first if it "+
			"should be deleted; left alone", nodeUUID, n.ProtectedReason)
	}
	retry := d.lockRetry.untilDeadline()
	log := requestid.Logger(ctx, d.log).With("node", nodeUUID, "migration", migrationID)
	if n.Protected {
		ops := nodes.UpdateOpts{nodes.UpdateOperation{Op: nodes.AddOp, Path: "/protected", Value: false}}
		var after enrollNode
		if err := d.whileLocked(ctx, sc, retry, nodeUUID, func() error {
			return nodes.Update(ctx, sc, nodeUUID, ops).ExtractInto(&after)
		}); err != nil {
			return gone(err)
		}
	}
	if !n.Maintenance && !slices.Contains(deletableStates, n.ProvisionState) {
		if err := d.whileLocked(ctx, sc, retry, nodeUUID, func() error {
			return nodes.SetMaintenance(ctx, sc, nodeUUID, nodes.MaintenanceOpts{Reason: reason + ": enrollment undone, node being deleted"}).ExtractErr()
		}); err != nil {
			return gone(err)
		}
		log.Info("enroll undo: maintenance on", "provision_state", n.ProvisionState)
	}
	err = d.whileLocked(ctx, sc, retry, nodeUUID, func() error { return nodes.Delete(ctx, sc, nodeUUID).ExtractErr() })
	if err = gone(err); err != nil {
		return err
	}
	log.Info("enroll undo: node deleted", "provision_state", n.ProvisionState)
	return nil
}

// gone reads a node that is not found as done.
func gone(err error) error {
	if errors.Is(err, driver.ErrNodeNotFound) {
		return nil
	}
	return err
}
