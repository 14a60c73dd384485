package toproto

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/mogan-manage/mogan-manage/proto/driverv1"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// EnrollNodeRequest converts driver.EnrollRequest.
func EnrollNodeRequest(in driver.EnrollRequest) (*driverv1.EnrollNodeRequest, error) {
	m, err := Machine(in.Machine)
	if err != nil {
		return nil, err
	}
	return &driverv1.EnrollNodeRequest{
		MigrationId: in.MigrationID,
		NodeUuid:    in.NodeUUID,
		Machine:     m,
		Secrets:     in.Secrets,
	}, nil
}

// EnrollNodeResponse converts driver.EnrollState.
func EnrollNodeResponse(in driver.EnrollState) *driverv1.EnrollNodeResponse {
	return &driverv1.EnrollNodeResponse{
		ProvisionState: in.ProvisionState,
		PowerState:     in.PowerState,
		Protected:      in.Protected,
		Done:           in.Done,
	}
}

// ExportNodeResponse converts driver.Export.
func ExportNodeResponse(in driver.Export) (*driverv1.ExportNodeResponse, error) {
	m, err := Machine(in.Machine)
	if err != nil {
		return nil, err
	}
	return &driverv1.ExportNodeResponse{
		Machine:     m,
		State:       NodeState(in.State),
		Maintenance: in.Maintenance,
		Protected:   in.Protected,
	}, nil
}

// Machine converts driver.Machine. Its driver_info and properties travel as
// JSON objects: a value JSON cannot hold is an error naming the field.
func Machine(in driver.Machine) (*driverv1.Machine, error) {
	driverInfo, err := jsonObject(in.DriverInfo)
	if err != nil {
		return nil, fmt.Errorf("machine %q: driver_info: %w", in.Name, err)
	}
	properties, err := jsonObject(in.Properties)
	if err != nil {
		return nil, fmt.Errorf("machine %q: properties: %w", in.Name, err)
	}
	out := &driverv1.Machine{
		Name:            in.Name,
		Driver:          in.Driver,
		DriverInfo:      driverInfo,
		Secrets:         in.Secrets,
		ResourceClass:   optional(in.ResourceClass),
		Properties:      properties,
		Traits:          in.Traits,
		DeployInterface: optional(in.DeployInterface),
		Image:           optional(in.Image),
		PowerState:      optional(in.PowerState),
		Owner:           optional(in.Owner),
		Lessee:          optional(in.Lessee),
	}
	if in.Ports != nil {
		out.Ports = make([]*driverv1.MachinePort, len(in.Ports))
		for i, p := range in.Ports {
			out.Ports[i] = MachinePort(p)
		}
	}
	if in.Portgroups != nil {
		out.Portgroups = make([]*driverv1.MachinePortgroup, len(in.Portgroups))
		for i, pg := range in.Portgroups {
			out.Portgroups[i] = MachinePortgroup(pg)
		}
	}
	return out, nil
}

// MachinePort converts driver.MachinePort.
func MachinePort(in driver.MachinePort) *driverv1.MachinePort {
	var pxe *bool
	if in.PXEEnabled != nil {
		v := *in.PXEEnabled
		pxe = &v
	}
	return &driverv1.MachinePort{
		Mac:             in.MAC,
		PxeEnabled:      pxe,
		PhysicalNetwork: optional(in.PhysicalNetwork),
		Network:         optional(in.Network),
		FixedIps:        in.FixedIPs,
		NeutronPortId:   optional(in.NeutronPortID),
	}
}

// MachinePortgroup converts driver.MachinePortgroup.
func MachinePortgroup(in driver.MachinePortgroup) *driverv1.MachinePortgroup {
	return &driverv1.MachinePortgroup{
		Name:  optional(in.Name),
		Mac:   in.MAC,
		Mode:  optional(in.Mode),
		Ports: in.Ports,
	}
}

// jsonObject turns a JSON-like map into a Struct through its JSON form, so
// that any value encoding/json can write ([]string, a typed map, a
// json.Number) travels as the inventory would hold it. nil stays absent; an
// empty map is an empty Struct.
func jsonObject(m map[string]any) (*structpb.Struct, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var s structpb.Struct
	if err := protojson.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
