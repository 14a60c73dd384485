package ironicdriver

import (
	"context"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/nodefilter"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// The enroll capability (DESIGN, "Target capability enroll"): a running
// machine becomes an active, protected node without Ironic ever touching
// it. Each EnrollNode call reads the node by the uuid the host chose and
// makes the one transition that comes next:
//
//	none        → create it (enroll), with its traits, portgroups, ports
//	enroll      → manage; wait while it verifies (the BMC answers)
//	manageable  → check the power state read, adopt; wait while adopting
//	active      → protect it: done
//
// The only provision targets it ever sends are manage and adopt; it never
// powers the machine, sets a boot device, cleans, deploys or rescues it.

// migrationKey marks, in extra, what an enrollment created: the node, its
// portgroups and ports.
const migrationKey = "mogan_migration_id"

// enrollFields are what EnrollNode and DeleteEnrolled read of a node.
var enrollFields = []string{
	"uuid", "provision_state", "target_provision_state", "last_error", "power_state",
	"instance_uuid", "protected", "protected_reason", "maintenance", "maintenance_reason", "extra", "traits",
	"owner", "lessee",
}

// enrollNode is a node as EnrollNode and DeleteEnrolled read it.
type enrollNode struct {
	UUID                 string   `json:"uuid"`
	ProvisionState       string   `json:"provision_state"`
	TargetProvisionState string   `json:"target_provision_state"`
	LastError            string   `json:"last_error"`
	PowerState           string   `json:"power_state"`
	InstanceUUID         string   `json:"instance_uuid"`
	Protected            bool     `json:"protected"`
	ProtectedReason      string   `json:"protected_reason"`
	Maintenance          bool     `json:"maintenance"`
	MaintenanceReason    string   `json:"maintenance_reason"`
	Traits               []string `json:"traits"`
	Owner                string   `json:"owner"`
	Lessee               string   `json:"lessee"`
	Extra                struct {
		MigrationID string `json:"mogan_migration_id"`
	} `json:"extra"`
}

// migrationReason is the reason of what a migration sets on a node: its
// protection once enrolled, its maintenance while it is undone.
func migrationReason(migrationID string) string {
	return "mogan-manage migration " + migrationID
}

// The provision states an enrollment goes through (Ironic's words).
const (
	stateEnroll      = "enroll"
	stateVerifying   = "verifying"
	stateManageable  = "manageable"
	stateAdopting    = "adopting"
	stateAdoptFailed = "adopt failed"
	stateActive      = "active"
)

// EnrollNode advances the enrollment of req's machine by one transition.
func (d *Driver) EnrollNode(ctx context.Context, req driver.EnrollRequest) (driver.EnrollState, error) {
	sc, err := d.serviceClient(ctx)
	if err != nil {
		return driver.EnrollState{}, err
	}
	if err := d.checkEnrollRequest(req); err != nil {
		return driver.EnrollState{}, err
	}
	n, err := getEnrollNode(ctx, sc, req.NodeUUID)
	if err != nil {
		return driver.EnrollState{}, err
	}
	if n == nil {
		if err := checkSecrets(req); err != nil {
			return driver.EnrollState{}, err
		}
		return d.createNode(ctx, sc, req)
	}
	if n.Extra.MigrationID != req.MigrationID {
		return driver.EnrollState{}, driver.Conflict("a node with uuid %s already exists in Ironic and migration %s did not create it%s: left alone",
			req.NodeUUID, req.MigrationID, markedBy(n.Extra.MigrationID))
	}
	return d.advance(ctx, sc, req, n)
}

func markedBy(migrationID string) string {
	if migrationID == "" {
		return ""
	}
	return " (migration " + migrationID + " did)"
}

// advance makes the transition that comes after the state n is in.
func (d *Driver) advance(ctx context.Context, sc *gophercloud.ServiceClient, req driver.EnrollRequest, n *enrollNode) (driver.EnrollState, error) {
	log := requestid.Logger(ctx, d.log).With("node", req.NodeUUID, "migration", req.MigrationID)
	switch n.ProvisionState {
	case stateEnroll:
		if n.TargetProvisionState == stateManageable { // manage requested, not begun
			return d.wait(ctx, sc, req, n)
		}
		if n.LastError != "" {
			return driver.EnrollState{}, manageFailed(req, n)
		}
		created, err := d.completeNode(ctx, sc, req, n, false)
		if err != nil || created {
			// Finishing what an interrupted creation left is this
			// call's transition.
			return enrollStateOf(n), err
		}
		log.Info("enroll: requesting manage (Ironic checks the BMC)")
		if err := d.provision(ctx, sc, req.NodeUUID, nodes.TargetManage); err != nil {
			return driver.EnrollState{}, err
		}
		return d.wait(ctx, sc, req, nil)
	case stateVerifying, stateAdopting:
		return d.wait(ctx, sc, req, n)
	case stateManageable:
		if err := checkPowerState(req, n); err != nil {
			return driver.EnrollState{}, err
		}
		log.Info("enroll: requesting adopt")
		if err := d.provision(ctx, sc, req.NodeUUID, nodes.TargetAdopt); err != nil {
			return driver.EnrollState{}, err
		}
		return d.wait(ctx, sc, req, nil)
	case stateAdoptFailed:
		return driver.EnrollState{}, driver.NotManageable(req.NodeUUID, "Ironic failed to adopt it: "+orNone(n.LastError))
	case stateActive:
		if !n.Protected {
			ops := nodes.UpdateOpts{
				nodes.UpdateOperation{Op: nodes.AddOp, Path: "/protected", Value: true},
				nodes.UpdateOperation{Op: nodes.AddOp, Path: "/protected_reason", Value: migrationReason(req.MigrationID)},
			}
			var after enrollNode
			if err := d.patch(ctx, sc, req.NodeUUID, ops, &after); err != nil {
				return driver.EnrollState{}, err
			}
			n = &after
			log.Info("enroll: node adopted and protected")
		}
		st := enrollStateOf(n)
		st.Done = n.Protected
		return st, nil
	}
	return driver.EnrollState{}, driver.InvalidState("node %s is in provision state %q, where no enrollment leads: someone acted on it in Ironic; "+
		"undo the migration", req.NodeUUID, n.ProvisionState)
}

// manageFailed is the error of a node that manage sent back to enroll.
func manageFailed(req driver.EnrollRequest, n *enrollNode) error {
	return driver.NotManageable(req.NodeUUID, "Ironic could not manage it (its BMC did not answer as expected): "+n.LastError)
}

// checkPowerState compares the power state Ironic read while managing the
// node with the one the machine description gives, if it gives one: a
// BMC that reads none, or another, may be another machine's.
func checkPowerState(req driver.EnrollRequest, n *enrollNode) error {
	want := req.Machine.PowerState
	if want == "" || n.PowerState == want {
		return nil
	}
	if n.PowerState == "" || n.PowerState == "error" {
		return driver.NotManageable(req.NodeUUID, fmt.Sprintf("Ironic could not read its power state (it reads %s) where the machine "+
			"description says %s: the BMC may be another machine's", orNone(n.PowerState), want))
	}
	return driver.NotManageable(req.NodeUUID, fmt.Sprintf("Ironic reads its power state as %s where the machine description says %s: "+
		"the BMC may be another machine's", n.PowerState, want))
}

// enrollStateOf is what EnrollNode answers for n.
func enrollStateOf(n *enrollNode) driver.EnrollState {
	return driver.EnrollState{ProvisionState: n.ProvisionState, PowerState: n.PowerState, Protected: n.Protected}
}

// provision requests a provision-state transition, manage or adopt, the
// only two an enrollment makes.
func (d *Driver) provision(ctx context.Context, sc *gophercloud.ServiceClient, nodeUUID string, target nodes.TargetProvisionState) error {
	return d.whileLocked(ctx, sc, d.lockRetry, nodeUUID, func() error {
		return nodes.ChangeProvisionState(ctx, sc, nodeUUID, nodes.ProvisionStateOpts{Target: target}).ExtractErr()
	})
}

// Polling a transition: quickly at first (verifying takes tens of
// milliseconds with a fake BMC), then every second.
const (
	pollFirst = 20 * time.Millisecond
	pollMax   = time.Second
	// waitWithoutDeadline bounds a wait when the call has no deadline.
	waitWithoutDeadline = time.Minute
)

// wait polls the node while it is in a transition (verifying, adopting,
// or manage requested), within the call's deadline, and answers where it
// ended: manageable or active is this call's progress; back in enroll
// with an error, or adopt failed, is the failure. A transition that
// outlasts the call answers its state: the host calls again. n is the
// node as last read, nil to read it first (after a request).
func (d *Driver) wait(ctx context.Context, sc *gophercloud.ServiceClient, req driver.EnrollRequest, n *enrollNode) (driver.EnrollState, error) {
	until := time.Now().Add(waitWithoutDeadline)
	if dl, ok := ctx.Deadline(); ok {
		// Leave the answer time to travel back.
		until = dl.Add(-max(time.Until(dl)/10, 100*time.Millisecond))
	}
	if n == nil {
		var err error
		if n, err = getEnrollNode(ctx, sc, req.NodeUUID); err != nil {
			return driver.EnrollState{}, err
		}
		if n == nil {
			return driver.EnrollState{}, driver.NotFound("node %s was deleted from Ironic during its enrollment", req.NodeUUID)
		}
	}
	delay := pollFirst
	for inTransition(n) {
		if time.Now().Add(delay).After(until) {
			return enrollStateOf(n), nil
		}
		select {
		case <-ctx.Done():
			return driver.EnrollState{}, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, pollMax)
		var err error
		if n, err = getEnrollNode(ctx, sc, req.NodeUUID); err != nil {
			return driver.EnrollState{}, err
		}
		if n == nil {
			return driver.EnrollState{}, driver.NotFound("node %s was deleted from Ironic during its enrollment", req.NodeUUID)
		}
	}
	switch {
	case n.ProvisionState == stateEnroll && n.LastError != "":
		return driver.EnrollState{}, manageFailed(req, n)
	case n.ProvisionState == stateAdoptFailed:
		return driver.EnrollState{}, driver.NotManageable(req.NodeUUID, "Ironic failed to adopt it: "+orNone(n.LastError))
	}
	return enrollStateOf(n), nil
}

func inTransition(n *enrollNode) bool {
	return n.ProvisionState == stateVerifying || n.ProvisionState == stateAdopting ||
		(n.ProvisionState == stateEnroll && n.TargetProvisionState == stateManageable)
}

// getEnrollNode reads a node by uuid; nil when Ironic does not know it.
func getEnrollNode(ctx context.Context, sc *gophercloud.ServiceClient, nodeUUID string) (*enrollNode, error) {
	var n enrollNode
	err := nodefilter.Get(ctx, sc, nodeUUID, enrollFields).ExtractInto(&n)
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil, nil
	}
	if err != nil {
		return nil, classify(err, "ironic", sc.Endpoint)
	}
	return &n, nil
}
