package driver

import "context"

// Driver is what every plugin implements: it names itself and accepts its
// configuration. Discovery and adoption are optional capabilities (Discoverer,
// Adopter); a driver without them answers "not implemented" for those calls,
// which the API reports as 501.
type Driver interface {
	// Info names the driver. Capabilities is filled in by the SDK from the
	// interfaces the driver implements; a driver may leave it empty.
	Info(ctx context.Context) (Info, error)

	// Configure receives the options of the driver's section of the host
	// configuration. An option the driver does not know, or a bad value, is
	// an InvalidOptionError naming it.
	Configure(ctx context.Context, options map[string]string) error
}

// Discoverer lists nodes that could be taken under management.
type Discoverer interface {
	// ListManageableNodes calls send once per node, in a stable order (the
	// marker of the next page is the UUID of the last node sent). It stops
	// and returns send's error as soon as send fails, and returns ctx.Err()
	// when ctx is done.
	ListManageableNodes(ctx context.Context, opts ListOptions, send func(Node) error) error

	// GetManageableNode re-validates one node just before it is adopted and
	// returns it with its ports and portgroups: ErrNodeNotFound when it is
	// unknown. A node that cannot be managed is not an error: it comes back
	// with Manageable false and the Reason, judged by the same rule as the
	// listing. (An older driver's NotManageable error is treated alike.)
	GetManageableNode(ctx context.Context, nodeUUID string) (Node, error)
}

// Adopter takes nodes under management and releases them, without ever
// touching the running machine.
type Adopter interface {
	// Manage associates the node with the server in one atomic step of the
	// backend. ErrConflict when the node already belongs to someone else; a
	// node already associated with this server is success (idempotent).
	// It must not re-read what GetManageableNode returned (ports): it
	// answers the node as the association left it, judged as if it were not
	// associated, so Manageable false with the Reason when the node changed
	// since it was validated. The host then undoes the association with
	// Unmanage and refuses the adoption; the driver does not release it.
	Manage(ctx context.Context, req ManageRequest) (Node, error)

	// Unmanage releases the node from the server. A node that is no longer
	// associated with that server is left alone and is not an error.
	Unmanage(ctx context.Context, req ManageRequest) error
}

// StateReader reads what crash recovery and the reconciler need about
// nodes the host adopted: existence, association and power. It is
// optional; without it the host rolls back unfinished adoptions instead of
// completing them and does not sync power states (see driver.proto).
type StateReader interface {
	// GetNodeStates returns one NodeState per uuid (any order; at most
	// MaxNodeStates uuids a call), Exists false for a node the backend does
	// not know. ErrUnavailable when the backend cannot be reached.
	GetNodeStates(ctx context.Context, nodeUUIDs []string) ([]NodeState, error)
}

// MaxNodeStates is the most node uuids one GetNodeStates call carries.
const MaxNodeStates = 1000

// NodeState is a node's existence, association and power.
type NodeState struct {
	NodeUUID string
	Exists   bool
	// InstanceUUID is the server the node is associated with; "" for none.
	InstanceUUID   string
	PowerState     string
	ProvisionState string
}

// Full is a driver with every capability. The host's view of a plugin is a
// Full whose missing capabilities answer ErrNotImplemented.
type Full interface {
	Driver
	Discoverer
	Adopter
	StateReader
	Enroller
	EnrollChecker
	Exporter
	Releaser
}

// Capability names, as reported in Info.Capabilities.
const (
	CapabilityDiscover = "discover"
	CapabilityAdopt    = "adopt"
	CapabilityStates   = "node_states"
)

// CapabilitiesOf reports the optional interfaces d implements.
func CapabilitiesOf(d Driver) []string {
	var caps []string
	if _, ok := d.(Discoverer); ok {
		caps = append(caps, CapabilityDiscover)
	}
	if _, ok := d.(Adopter); ok {
		caps = append(caps, CapabilityAdopt)
	}
	if _, ok := d.(StateReader); ok {
		caps = append(caps, CapabilityStates)
	}
	if _, ok := d.(Enroller); ok {
		caps = append(caps, CapabilityEnroll)
	}
	if _, ok := d.(Exporter); ok {
		caps = append(caps, CapabilityExport)
	}
	if _, ok := d.(Releaser); ok {
		caps = append(caps, CapabilityRelease)
	}
	return caps
}

// Info names a driver.
type Info struct {
	Name         string
	Version      string
	Capabilities []string
}

// ListOptions filter a listing of manageable nodes.
type ListOptions struct {
	// ResourceClass keeps only nodes of this class; empty keeps all.
	ResourceClass string
	// Limit caps the number of nodes sent; 0 means no limit.
	Limit int
	// Marker starts the listing after the node with this UUID.
	Marker string
	// IncludeUnmanageable also sends nodes that cannot be managed, with
	// Manageable false and a Reason.
	IncludeUnmanageable bool
}

// ManageRequest names the node and the server it is (or was) adopted as.
type ManageRequest struct {
	NodeUUID   string
	ServerUUID string
}

// Node is one bare metal machine. Empty optional strings mean "unknown" and
// are shown as null by the API.
type Node struct {
	UUID           string
	Name           string // optional
	ResourceClass  string // optional
	PowerState     string // Ironic's words: "power on", "power off"
	ProvisionState string
	Ports          []Port
	Portgroups     []Portgroup
	ImageSource    string // optional
	// InstanceUUID is the server the node is associated with, if any.
	InstanceUUID string // optional
	Manageable   bool
	// Reason says, for a human, why the node cannot be managed.
	Reason string
	// Properties carries driver-specific facts.
	Properties map[string]string
}

// Port is a network interface of a node.
type Port struct {
	UUID          string
	Address       string
	NeutronPortID string // optional
}

// Portgroup is a bond of ports.
type Portgroup struct {
	UUID          string
	Address       string
	Mode          string // optional
	NeutronPortID string // optional
}

// ConfigDescriber describes the options of the driver's own section of
// the host configuration ([<driver name>]), as a Terraform provider
// publishes its schema. It is optional: without it the host hands the
// section to Configure unchecked and leaves it out of the sample
// configuration. ConfigSchema must answer before Configure and without the
// backend.
type ConfigDescriber interface {
	ConfigSchema(ctx context.Context) ([]ConfigOption, error)
}

// Option types of ConfigOption.Type.
const (
	OptionString  = "string"
	OptionInteger = "integer"
	// OptionBoolean is read as oslo.config reads it: true/false, yes/no,
	// on/off, 1/0, in any case.
	OptionBoolean = "boolean"
	// OptionChoice is one of ConfigOption.Choices.
	OptionChoice = "choice"
)

// ConfigOption describes one option of a driver's section.
type ConfigOption struct {
	Name string
	// Type is one of OptionString, OptionInteger, OptionBoolean,
	// OptionChoice; "" reads as OptionString.
	Type string
	// Default is the value used when the option is not set, as it would
	// be written in the file; "" for none. Never set it for a secret.
	Default string
	// Help says what the option does, for a human.
	Help string
	// Secret marks a credential: its value is never printed or echoed.
	Secret bool
	// Required: the driver refuses a section without it.
	Required bool
	// Choices are the allowed values of an OptionChoice.
	Choices []string
}
