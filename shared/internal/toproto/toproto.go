// Package toproto converts the SDK's Go types (shared/driver) into their
// generated protobuf messages. It is the only place that direction is done;
// fromproto is its mirror.
package toproto

import (
	"github.com/mogan-manage/mogan-manage/proto/driverv1"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// optional turns the SDK's "empty means unknown" into an absent field.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// GetInfoResponse converts driver.Info.
func GetInfoResponse(in driver.Info) *driverv1.GetInfoResponse {
	return &driverv1.GetInfoResponse{
		Name:         in.Name,
		Version:      in.Version,
		Capabilities: in.Capabilities,
	}
}

// ListManageableNodesRequest converts driver.ListOptions.
func ListManageableNodesRequest(in driver.ListOptions) *driverv1.ListManageableNodesRequest {
	return &driverv1.ListManageableNodesRequest{
		ResourceClass:       in.ResourceClass,
		Limit:               int32(min(in.Limit, 1<<31-1)), //nolint:gosec // clamped to int32 range
		Marker:              in.Marker,
		IncludeUnmanageable: in.IncludeUnmanageable,
	}
}

// ManageRequest converts driver.ManageRequest.
func ManageRequest(in driver.ManageRequest) *driverv1.ManageRequest {
	return &driverv1.ManageRequest{NodeUuid: in.NodeUUID, ServerUuid: in.ServerUUID}
}

// UnmanageRequest converts driver.ManageRequest for Unmanage.
func UnmanageRequest(in driver.ManageRequest) *driverv1.UnmanageRequest {
	return &driverv1.UnmanageRequest{NodeUuid: in.NodeUUID, ServerUuid: in.ServerUUID}
}

// Node converts driver.Node.
func Node(in driver.Node) *driverv1.Node {
	out := &driverv1.Node{
		Uuid:           in.UUID,
		Name:           optional(in.Name),
		ResourceClass:  optional(in.ResourceClass),
		PowerState:     in.PowerState,
		ProvisionState: in.ProvisionState,
		ImageSource:    optional(in.ImageSource),
		InstanceUuid:   optional(in.InstanceUUID),
		Manageable:     in.Manageable,
		Reason:         in.Reason,
		Properties:     in.Properties,
	}
	if in.Ports != nil {
		out.Ports = make([]*driverv1.Port, len(in.Ports))
		for i, p := range in.Ports {
			out.Ports[i] = Port(p)
		}
	}
	if in.Portgroups != nil {
		out.Portgroups = make([]*driverv1.Portgroup, len(in.Portgroups))
		for i, pg := range in.Portgroups {
			out.Portgroups[i] = Portgroup(pg)
		}
	}
	return out
}

// Port converts driver.Port.
func Port(in driver.Port) *driverv1.Port {
	return &driverv1.Port{
		Uuid:          in.UUID,
		Address:       in.Address,
		NeutronPortId: optional(in.NeutronPortID),
	}
}

// Portgroup converts driver.Portgroup.
func Portgroup(in driver.Portgroup) *driverv1.Portgroup {
	return &driverv1.Portgroup{
		Uuid:          in.UUID,
		Address:       in.Address,
		Mode:          optional(in.Mode),
		NeutronPortId: optional(in.NeutronPortID),
	}
}

// NodeState converts driver.NodeState.
func NodeState(in driver.NodeState) *driverv1.NodeState {
	return &driverv1.NodeState{
		NodeUuid:       in.NodeUUID,
		Exists:         in.Exists,
		InstanceUuid:   optional(in.InstanceUUID),
		PowerState:     in.PowerState,
		ProvisionState: in.ProvisionState,
	}
}

// ConfigOption converts driver.ConfigOption.
func ConfigOption(in driver.ConfigOption) *driverv1.ConfigOption {
	return &driverv1.ConfigOption{
		Name:         in.Name,
		Type:         in.Type,
		DefaultValue: in.Default,
		Help:         in.Help,
		Secret:       in.Secret,
		Required:     in.Required,
		Choices:      in.Choices,
	}
}

// GetConfigSchemaResponse converts a driver's option descriptions.
func GetConfigSchemaResponse(in []driver.ConfigOption) *driverv1.GetConfigSchemaResponse {
	out := &driverv1.GetConfigSchemaResponse{Options: make([]*driverv1.ConfigOption, len(in))}
	for i, o := range in {
		out.Options[i] = ConfigOption(o)
	}
	return out
}
