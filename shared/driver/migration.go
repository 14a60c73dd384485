package driver

import "context"

// The migration capabilities (DESIGN, "Migration"): a target backend that
// can enroll a running machine described by the operator, and a source
// backend that can export one of its nodes and hand it over. Each is
// optional and named in Info.Capabilities; a driver without it answers
// ErrNotImplemented, which the host reports as 501 naming the backend.
//
// None of them may ever touch the machine: no provide, deploy, rebuild,
// undeploy, clean or rescue, no power or boot-device change.

// Capability names of the migration interfaces.
const (
	CapabilityEnroll  = "enroll"
	CapabilityExport  = "export"
	CapabilityRelease = "release"
)

// Enroller is a target backend: it creates a running machine's node with
// the uuid the host chose and takes it to adopted and protected without
// touching the machine.
type Enroller interface {
	// EnrollNode advances the node one transition and returns where it
	// stands; the host calls again until Done (active and protected) or
	// an error. It is idempotent: the node's uuid tells what exists. The
	// first call creates the node — automated_clean off, marked with the
	// migration id — with its portgroups and ports (each port's Neutron
	// port as its VIF); later calls request manage, then adopt, then set
	// protected with the reason "mogan-manage migration <id>".
	//
	// A MAC or a name already used is ErrConflict naming it; a node with
	// this uuid that another migration (or nobody) marked is ErrConflict;
	// manage failing (the node back in enroll with last_error), adopt
	// failing, or a power state that differs from Machine.PowerState when
	// that is given, is ErrNotManageable with the backend's last error. A
	// request it cannot carry out (a secret Machine.Secrets names without
	// a value) is ErrInvalidArgument, before anything is created.
	EnrollNode(ctx context.Context, req EnrollRequest) (EnrollState, error)

	// DeleteEnrolled undoes EnrollNode: it deletes the node if it carries
	// this migration's marker and no instance is associated with it,
	// lifting only the protection EnrollNode set; a node in a state that
	// cannot be deleted is put in maintenance (reason naming the
	// migration) first. A node that is gone is success; one that is not
	// this migration's, or is associated with an instance, is ErrConflict
	// and left alone, as is one someone else protected (ErrNodeProtected).
	DeleteEnrolled(ctx context.Context, migrationID, nodeUUID string) error
}

// EnrollChecker is an Enroller that can make the checks of EnrollNode's
// first call without creating anything: the host's dry run of a migration
// asks it. A uuid, a name or a MAC already used is ErrConflict naming it,
// as EnrollNode would refuse it. Optional: without it the dry run says the
// target's own checks were not made.
type EnrollChecker interface {
	CheckEnroll(ctx context.Context, req EnrollRequest) error
}

// EnrollRequest is one EnrollNode call. Secrets carries the values of the
// driver_info fields Machine.Secrets names: the driver sends them to the
// backend and nowhere else (no log line, no error, no answer).
type EnrollRequest struct {
	MigrationID string
	NodeUUID    string
	Machine     Machine
	Secrets     map[string]string
}

// EnrollState is where an enrolling node stands.
type EnrollState struct {
	ProvisionState string
	PowerState     string
	Protected      bool
	// Done: the node is active (adopted) and protected.
	Done bool
}

// Exporter is a source backend that can describe one of its nodes as a
// Machine, to be enrolled elsewhere.
type Exporter interface {
	// ExportNode reads the node, its ports, portgroups, traits and VIFs.
	// The driver_info fields the backend masks (Ironic shows "******") are
	// left out of DriverInfo and listed in Machine.Secrets, for the
	// operator to supply. Each port's Network and FixedIPs are filled when
	// the driver can reach the backend's Neutron; otherwise they are empty.
	ExportNode(ctx context.Context, nodeUUID string) (Export, error)
}

// Export is a node described for a migration, and what a handoff checks
// of it.
type Export struct {
	Machine     Machine
	State       NodeState
	Maintenance bool
	Protected   bool
}

// Releaser is a source backend that can hand one of its nodes over: hold
// it while the target takes it, then release it for good (or unhold it).
type Releaser interface {
	// HoldNode puts the node in maintenance with the reason "mogan-manage
	// migration <id>". It refuses (ErrNotManageable, saying why) a node that
	// is protected, not active, already in maintenance, or associated with
	// an instance ("delete or unmanage the instance in the source cloud
	// first"). Holding a node this migration already holds is success.
	HoldNode(ctx context.Context, migrationID, nodeUUID string) error
	// UnholdNode takes the node out of maintenance, only when the
	// maintenance reason is this migration's; a node that is gone, or not
	// held by it, is left alone (success).
	UnholdNode(ctx context.Context, migrationID, nodeUUID string) error
	// ReleaseNode deletes the node from the backend without touching the
	// machine, only while this migration holds it; a node that is gone is
	// success, one not held by this migration ErrConflict.
	ReleaseNode(ctx context.Context, migrationID, nodeUUID string) error
}

// Machine is a running machine as a migration describes it: what the
// target backend needs to enroll it. Its JSON form is the inventory's
// (DESIGN, "The machine description").
type Machine struct {
	// Name is the node's name (Ironic's name rules).
	Name string `json:"name"`
	// Driver is the backend's hardware type (Ironic: ipmi, redfish, …).
	Driver string `json:"driver"`
	// DriverInfo is the driver's management settings, without secrets.
	DriverInfo map[string]any `json:"driver_info,omitempty"`
	// Secrets names the DriverInfo fields whose values come from the
	// secrets file (or are masked by the source), never from here.
	Secrets         []string           `json:"secrets,omitempty"`
	ResourceClass   string             `json:"resource_class,omitempty"`
	Properties      map[string]any     `json:"properties,omitempty"`
	Traits          []string           `json:"traits,omitempty"`
	DeployInterface string             `json:"deploy_interface,omitempty"`
	Image           string             `json:"image,omitempty"`
	PowerState      string             `json:"power_state,omitempty"`
	Ports           []MachinePort      `json:"ports,omitempty"`
	Portgroups      []MachinePortgroup `json:"portgroups,omitempty"`
	Owner           string             `json:"owner,omitempty"`
	Lessee          string             `json:"lessee,omitempty"`
}

// MachinePort is one NIC of a machine.
type MachinePort struct {
	MAC             string `json:"mac"`
	PXEEnabled      *bool  `json:"pxe_enabled,omitempty"`
	PhysicalNetwork string `json:"physical_network,omitempty"`
	// Network is a Neutron network's name or id; FixedIPs its addresses.
	Network  string   `json:"network,omitempty"`
	FixedIPs []string `json:"fixed_ips,omitempty"`
	// NeutronPortID is the port's VIF: set by the host (the Neutron port
	// it created or reused) before EnrollNode, and by ExportNode from the
	// source; never part of an inventory.
	NeutronPortID string `json:"-"`
}

// MachinePortgroup is a bond of a machine's NICs.
type MachinePortgroup struct {
	Name string `json:"name,omitempty"`
	MAC  string `json:"mac"`
	Mode string `json:"mode,omitempty"`
	// Ports are the member ports' MACs.
	Ports []string `json:"ports,omitempty"`
}
