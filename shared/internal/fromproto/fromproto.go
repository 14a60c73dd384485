// Package fromproto converts generated protobuf messages into the SDK's Go
// types (shared/driver). Nil in gives the zero value out. toproto is its
// mirror.
package fromproto

import (
	"github.com/mogan-manage/mogan-manage/proto/driverv1"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// Info converts a GetInfoResponse.
func Info(in *driverv1.GetInfoResponse) driver.Info {
	return driver.Info{
		Name:         in.GetName(),
		Version:      in.GetVersion(),
		Capabilities: in.GetCapabilities(),
	}
}

// ListOptions converts a ListManageableNodesRequest.
func ListOptions(in *driverv1.ListManageableNodesRequest) driver.ListOptions {
	return driver.ListOptions{
		ResourceClass:       in.GetResourceClass(),
		Limit:               int(in.GetLimit()),
		Marker:              in.GetMarker(),
		IncludeUnmanageable: in.GetIncludeUnmanageable(),
	}
}

// ManageRequest converts a ManageRequest.
func ManageRequest(in *driverv1.ManageRequest) driver.ManageRequest {
	return driver.ManageRequest{NodeUUID: in.GetNodeUuid(), ServerUUID: in.GetServerUuid()}
}

// UnmanageRequest converts an UnmanageRequest.
func UnmanageRequest(in *driverv1.UnmanageRequest) driver.ManageRequest {
	return driver.ManageRequest{NodeUUID: in.GetNodeUuid(), ServerUUID: in.GetServerUuid()}
}

// Node converts a Node message.
func Node(in *driverv1.Node) driver.Node {
	out := driver.Node{
		UUID:           in.GetUuid(),
		Name:           in.GetName(),
		ResourceClass:  in.GetResourceClass(),
		PowerState:     in.GetPowerState(),
		ProvisionState: in.GetProvisionState(),
		ImageSource:    in.GetImageSource(),
		InstanceUUID:   in.GetInstanceUuid(),
		Manageable:     in.GetManageable(),
		Reason:         in.GetReason(),
		Properties:     in.GetProperties(),
	}
	if ports := in.GetPorts(); ports != nil {
		out.Ports = make([]driver.Port, len(ports))
		for i, p := range ports {
			out.Ports[i] = Port(p)
		}
	}
	if pgs := in.GetPortgroups(); pgs != nil {
		out.Portgroups = make([]driver.Portgroup, len(pgs))
		for i, pg := range pgs {
			out.Portgroups[i] = Portgroup(pg)
		}
	}
	return out
}

// Port converts a Port message.
func Port(in *driverv1.Port) driver.Port {
	return driver.Port{
		UUID:          in.GetUuid(),
		Address:       in.GetAddress(),
		NeutronPortID: in.GetNeutronPortId(),
	}
}

// Portgroup converts a Portgroup message.
func Portgroup(in *driverv1.Portgroup) driver.Portgroup {
	return driver.Portgroup{
		UUID:          in.GetUuid(),
		Address:       in.GetAddress(),
		Mode:          in.GetMode(),
		NeutronPortID: in.GetNeutronPortId(),
	}
}

// NodeState converts a NodeState message.
func NodeState(in *driverv1.NodeState) driver.NodeState {
	return driver.NodeState{
		NodeUUID:       in.GetNodeUuid(),
		Exists:         in.GetExists(),
		InstanceUUID:   in.GetInstanceUuid(),
		PowerState:     in.GetPowerState(),
		ProvisionState: in.GetProvisionState(),
	}
}

// ConfigOption converts a ConfigOption message.
func ConfigOption(in *driverv1.ConfigOption) driver.ConfigOption {
	return driver.ConfigOption{
		Name:     in.GetName(),
		Type:     in.GetType(),
		Default:  in.GetDefaultValue(),
		Help:     in.GetHelp(),
		Secret:   in.GetSecret(),
		Required: in.GetRequired(),
		Choices:  in.GetChoices(),
	}
}

// ConfigSchema converts a GetConfigSchemaResponse.
func ConfigSchema(in *driverv1.GetConfigSchemaResponse) []driver.ConfigOption {
	out := make([]driver.ConfigOption, len(in.GetOptions()))
	for i, o := range in.GetOptions() {
		out[i] = ConfigOption(o)
	}
	return out
}
