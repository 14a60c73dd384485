package ironicdriver

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// The source side of a handoff (DESIGN, "The handoff"): HoldNode puts the
// node in maintenance with the migration's reason — the mark by which
// UnholdNode and ReleaseNode know the hold is theirs — and ReleaseNode
// deletes it. Ironic deletes an active node only in maintenance, and
// then deletes its record only (ironic/conductor/manager.py,
// destroy_node: no power action, no cleaning, the driver not even
// loaded; a console left open is stopped): the machine keeps running, and
// its Neutron ports stay as they are. Maintenance is set with Ironic's
// maintenance API (PUT /v1/nodes/{uuid}/maintenance), the one place it
// takes a reason (a PATCH cannot set maintenance_reason), and cleared with
// its DELETE. Neither is conditional: between the read that checks a node
// and the request, someone else's change of the same node is possible
// for one round trip (a hold reads the node again after to catch one).

// HoldNode puts the node in maintenance with this migration's reason. It
// refuses, NotManageable saying why, a node associated with an instance,
// protected, not active, or in maintenance for another reason; a node
// this migration already holds is success.
func (d *Driver) HoldNode(ctx context.Context, migrationID, nodeUUID string) error {
	sc, err := d.serviceClient(ctx)
	if err != nil {
		return err
	}
	if migrationID == "" {
		return driver.InvalidArgument("hold node %s: no migration id", nodeUUID)
	}
	if err := checkUUID(nodeUUID); err != nil {
		return err
	}
	n, err := getEnrollNode(ctx, sc, nodeUUID)
	if err != nil {
		return err
	}
	if n == nil {
		return driver.NotFound("node %s not found in Ironic", nodeUUID)
	}
	reason := migrationReason(migrationID)
	log := requestid.Logger(ctx, d.log).With("node", nodeUUID, "migration", migrationID)
	if heldBy(n, reason) {
		log.Info("node already held by this migration")
		return nil
	}
	if why := holdRefusal(n, reason); why != "" {
		return driver.NotManageable(nodeUUID, why)
	}
	if err := d.whileLocked(ctx, sc, d.lockRetry, nodeUUID, func() error {
		return nodes.SetMaintenance(ctx, sc, nodeUUID, nodes.MaintenanceOpts{Reason: reason}).ExtractErr()
	}); err != nil {
		return err
	}
	// The node as the hold left it: changed by someone else in the
	// meantime, the hold is not ours, or not to keep.
	n, err = getEnrollNode(ctx, sc, nodeUUID)
	switch {
	case err != nil:
		return err
	case n == nil:
		return driver.NotFound("node %s was deleted from Ironic while it was being held", nodeUUID)
	case !heldBy(n, reason):
		return driver.Conflict("node %s's maintenance was changed by someone else while migration %s held it: %s",
			nodeUUID, migrationID, maintenanceOf(n))
	}
	if why := holdRefusal(n, reason); why != "" {
		if err := d.unhold(ctx, sc, nodeUUID); err != nil {
			return fmt.Errorf("node %s changed while it was being held (%s), and taking it out of maintenance again failed: %w", nodeUUID, why, err)
		}
		return driver.NotManageable(nodeUUID, why)
	}
	log.Info("node held: maintenance on")
	return nil
}

// UnholdNode takes the node out of maintenance when this migration holds
// it; a node that is gone, or not held by it, is left alone.
func (d *Driver) UnholdNode(ctx context.Context, migrationID, nodeUUID string) error {
	sc, err := d.serviceClient(ctx)
	if err != nil {
		return err
	}
	if migrationID == "" {
		return driver.InvalidArgument("unhold node %s: no migration id", nodeUUID)
	}
	if checkUUID(nodeUUID) != nil {
		return nil // no node has it
	}
	n, err := getEnrollNode(ctx, sc, nodeUUID)
	log := requestid.Logger(ctx, d.log).With("node", nodeUUID, "migration", migrationID)
	switch {
	case err != nil:
		return err
	case n == nil:
		log.Info("unhold: node is gone")
		return nil
	case !heldBy(n, migrationReason(migrationID)):
		log.Info("unhold: node is not held by this migration; left alone", "maintenance", maintenanceOf(n))
		return nil
	}
	if err := d.unhold(ctx, sc, nodeUUID); err != nil {
		return err
	}
	log.Info("node unheld: maintenance off")
	return nil
}

// unhold clears the node's maintenance (and Ironic its reason); a node
// that is gone is done.
func (d *Driver) unhold(ctx context.Context, sc *gophercloud.ServiceClient, nodeUUID string) error {
	return gone(d.whileLocked(ctx, sc, d.lockRetry, nodeUUID, func() error {
		return nodes.UnsetMaintenance(ctx, sc, nodeUUID).ExtractErr()
	}))
}

// ReleaseNode deletes the node from Ironic while this migration holds it,
// without touching the machine; a node that is gone is success, one not
// held by this migration a conflict, left alone. It waits out a conductor
// holding the node within the call's deadline: it is a handoff's commit,
// which only goes forward.
func (d *Driver) ReleaseNode(ctx context.Context, migrationID, nodeUUID string) error {
	sc, err := d.serviceClient(ctx)
	if err != nil {
		return err
	}
	if migrationID == "" {
		return driver.InvalidArgument("release node %s: no migration id", nodeUUID)
	}
	if checkUUID(nodeUUID) != nil {
		return nil // no node has it
	}
	n, err := getEnrollNode(ctx, sc, nodeUUID)
	log := requestid.Logger(ctx, d.log).With("node", nodeUUID, "migration", migrationID)
	switch {
	case err != nil:
		return err
	case n == nil:
		log.Info("release: node is gone")
		return nil
	case !heldBy(n, migrationReason(migrationID)):
		return driver.Conflict("node %s is not held by migration %s (%s): it is not released, and left alone",
			nodeUUID, migrationID, maintenanceOf(n))
	}
	if err := gone(d.whileLocked(ctx, sc, d.lockRetry.untilDeadline(), nodeUUID, func() error {
		return nodes.Delete(ctx, sc, nodeUUID).ExtractErr()
	})); err != nil {
		return err
	}
	log.Info("node released: deleted from Ironic, the machine untouched", "provision_state", n.ProvisionState, "power_state", n.PowerState)
	return nil
}

// heldBy reports whether the node is in maintenance with reason.
func heldBy(n *enrollNode, reason string) bool {
	return n.Maintenance && n.MaintenanceReason == reason
}

// holdRefusal is why the node cannot be held for the migration whose
// reason is reason, or "".
func holdRefusal(n *enrollNode, reason string) string {
	switch {
	case n.InstanceUUID != "":
		return fmt.Sprintf("it is associated with instance %s: delete or unmanage the instance in the source cloud first", n.InstanceUUID)
	case n.Protected:
		return fmt.Sprintf("it is protected (%s): someone protected it on purpose; lift the protection in the source cloud first if it should move",
			orUnset(n.ProtectedReason))
	case n.ProvisionState != stateActive:
		return fmt.Sprintf("its provision state is %q, not active", n.ProvisionState)
	case n.Maintenance && n.MaintenanceReason != reason:
		return fmt.Sprintf("it is in maintenance (%s): someone is working on it; take it out of maintenance in the source cloud first if it should move",
			orUnset(n.MaintenanceReason))
	}
	return ""
}

// maintenanceOf says what the node's maintenance is, for messages.
func maintenanceOf(n *enrollNode) string {
	if !n.Maintenance {
		return "not in maintenance"
	}
	return "in maintenance, reason " + orUnset(n.MaintenanceReason)
}

// orUnset quotes s, or says it is unset.
func orUnset(s string) string {
	if s == "" {
		return "no reason given"
	}
	return fmt.Sprintf("%q", s)
}
