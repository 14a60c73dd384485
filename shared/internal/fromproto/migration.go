package fromproto

import (
	"github.com/mogan-manage/mogan-manage/proto/driverv1"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// EnrollRequest converts an EnrollNodeRequest.
func EnrollRequest(in *driverv1.EnrollNodeRequest) driver.EnrollRequest {
	return driver.EnrollRequest{
		MigrationID: in.GetMigrationId(),
		NodeUUID:    in.GetNodeUuid(),
		Machine:     Machine(in.GetMachine()),
		Secrets:     in.GetSecrets(),
	}
}

// EnrollState converts an EnrollNodeResponse.
func EnrollState(in *driverv1.EnrollNodeResponse) driver.EnrollState {
	return driver.EnrollState{
		ProvisionState: in.GetProvisionState(),
		PowerState:     in.GetPowerState(),
		Protected:      in.GetProtected(),
		Done:           in.GetDone(),
	}
}

// Export converts an ExportNodeResponse.
func Export(in *driverv1.ExportNodeResponse) driver.Export {
	return driver.Export{
		Machine:     Machine(in.GetMachine()),
		State:       NodeState(in.GetState()),
		Maintenance: in.GetMaintenance(),
		Protected:   in.GetProtected(),
	}
}

// Machine converts a Machine message. An absent driver_info or properties
// is nil, an empty one an empty map; numbers come back as float64, as
// encoding/json reads them.
func Machine(in *driverv1.Machine) driver.Machine {
	out := driver.Machine{
		Name:            in.GetName(),
		Driver:          in.GetDriver(),
		Secrets:         in.GetSecrets(),
		ResourceClass:   in.GetResourceClass(),
		Traits:          in.GetTraits(),
		DeployInterface: in.GetDeployInterface(),
		Image:           in.GetImage(),
		PowerState:      in.GetPowerState(),
		Owner:           in.GetOwner(),
		Lessee:          in.GetLessee(),
	}
	if s := in.GetDriverInfo(); s != nil {
		out.DriverInfo = s.AsMap()
	}
	if s := in.GetProperties(); s != nil {
		out.Properties = s.AsMap()
	}
	if ports := in.GetPorts(); ports != nil {
		out.Ports = make([]driver.MachinePort, len(ports))
		for i, p := range ports {
			out.Ports[i] = MachinePort(p)
		}
	}
	if pgs := in.GetPortgroups(); pgs != nil {
		out.Portgroups = make([]driver.MachinePortgroup, len(pgs))
		for i, pg := range pgs {
			out.Portgroups[i] = MachinePortgroup(pg)
		}
	}
	return out
}

// MachinePort converts a MachinePort message.
func MachinePort(in *driverv1.MachinePort) driver.MachinePort {
	out := driver.MachinePort{
		MAC:             in.GetMac(),
		PhysicalNetwork: in.GetPhysicalNetwork(),
		Network:         in.GetNetwork(),
		FixedIPs:        in.GetFixedIps(),
		NeutronPortID:   in.GetNeutronPortId(),
	}
	if in != nil && in.PxeEnabled != nil {
		v := *in.PxeEnabled
		out.PXEEnabled = &v
	}
	return out
}

// MachinePortgroup converts a MachinePortgroup message.
func MachinePortgroup(in *driverv1.MachinePortgroup) driver.MachinePortgroup {
	return driver.MachinePortgroup{
		Name:  in.GetName(),
		MAC:   in.GetMac(),
		Mode:  in.GetMode(),
		Ports: in.GetPorts(),
	}
}
