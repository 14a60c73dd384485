package ironicdriver

import (
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
)

// The interlock (DESIGN, "The interlock"): every adoption also protects
// the node — Ironic then refuses to undeploy, rebuild or delete it — and
// turns its automated cleaning off, in the one PATCH that associates it,
// keeping what they were in extra.mogan_interlock; Unmanage puts them back
// in the PATCH that releases it. So nobody wipes an adopted machine by
// mistake, and a released node is exactly as it was.

// interlockKey is the node's extra field that keeps the prior values.
const interlockKey = "mogan_interlock"

// interlockFields are what Manage and Unmanage read of a node besides
// what they answer: the values the interlock changes and its record.
var interlockFields = append(append([]string{}, nodeFields...), "protected", "protected_reason", "automated_clean", "extra")

// interlock is the prior values a node had before Manage changed them, as
// extra.mogan_interlock holds them (null for an unset reason or an
// automated_clean left to the conductor's default).
type interlock struct {
	Protected       bool    `json:"protected"`
	ProtectedReason *string `json:"protected_reason"`
	AutomatedClean  *bool   `json:"automated_clean"`
}

// interlockNode is a node with what the interlock reads.
type interlockNode struct {
	ironicNode
	interlock
	Extra struct {
		Interlock *interlock `json:"mogan_interlock"`
	} `json:"extra"`
}

// protectedReason is the reason Manage protects a node with.
func protectedReason(serverUUID string) string {
	return "adopted by mogan-manage server " + serverUUID
}

// manageOps associate n with the server and set the interlock. A node
// that already has a record (someone released it by hand, leaving our
// protection) keeps it: it holds the values from before any adoption.
func manageOps(n *interlockNode, serverUUID string) nodes.UpdateOpts {
	ops := nodes.UpdateOpts{
		nodes.UpdateOperation{Op: nodes.AddOp, Path: "/instance_uuid", Value: serverUUID},
		nodes.UpdateOperation{Op: nodes.AddOp, Path: "/protected", Value: true},
		nodes.UpdateOperation{Op: nodes.AddOp, Path: "/protected_reason", Value: protectedReason(serverUUID)},
		nodes.UpdateOperation{Op: nodes.AddOp, Path: "/automated_clean", Value: false},
	}
	if n.Extra.Interlock == nil {
		ops = append(ops, nodes.UpdateOperation{Op: nodes.AddOp, Path: "/extra/" + interlockKey, Value: n.interlock})
	}
	return ops
}

// unmanageOps release n and restore what its record kept; withProtection
// false leaves its protection as it is. A node adopted before the
// interlock existed has no record: only its association goes.
func unmanageOps(n *interlockNode, withProtection bool) nodes.UpdateOpts {
	ops := nodes.UpdateOpts{nodes.UpdateOperation{Op: nodes.RemoveOp, Path: "/instance_uuid"}}
	prior := n.Extra.Interlock
	if prior == nil {
		return ops
	}
	// Ironic reads a removal of automated_clean badly (its policy check
	// wants a value): null is the same unset value.
	ops = append(ops, nodes.UpdateOperation{Op: nodes.AddOp, Path: "/automated_clean", Value: prior.AutomatedClean})
	switch {
	case !withProtection:
	case !prior.Protected:
		// Ironic clears the reason with the protection.
		ops = append(ops, nodes.UpdateOperation{Op: nodes.AddOp, Path: "/protected", Value: false})
	default:
		ops = append(ops, nodes.UpdateOperation{Op: nodes.AddOp, Path: "/protected", Value: true},
			nodes.UpdateOperation{Op: nodes.AddOp, Path: "/protected_reason", Value: prior.ProtectedReason})
	}
	return append(ops, nodes.UpdateOperation{Op: nodes.RemoveOp, Path: "/extra/" + interlockKey})
}
