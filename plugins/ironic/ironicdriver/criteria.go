package ironicdriver

import "fmt"

// unmanageableReason says, for an operator, why a node cannot be adopted,
// or "" when it can: the spec's criteria are active, no instance,
// a resource class, not in maintenance.
func unmanageableReason(n *ironicNode) string {
	switch {
	case n.ProvisionState != "active":
		return fmt.Sprintf("provision state is %s, not active", orNone(n.ProvisionState))
	case n.InstanceUUID != "":
		return fmt.Sprintf("node is associated with instance %s", n.InstanceUUID)
	case n.Maintenance:
		return "node is in maintenance"
	case n.ResourceClass == "":
		return "resource_class is not set"
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
