package manage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

// Fakes of a migration's backends and Neutron, for the engine's error
// paths; host/e2e runs migrations against real Ironics and Neutron.

// fakeIronic is a backend that can enroll, export and hand over nodes,
// one transition per EnrollNode call, as DESIGN's contract says.
type fakeIronic struct {
	mu    sync.Mutex
	nodes map[string]*fakeIronicNode
	// fail makes a call fail: key "enroll:<state>", "delete", "hold",
	// "release", "export".
	fail map[string]error
	// verbs logs every state-changing call, for the "nothing else" checks.
	verbs []string
}

type fakeIronicNode struct {
	uuid, name, state, marker, instance, power string
	macs                                       []string
	maintenance                                bool
	maintReason                                string
	protected                                  bool
	secrets                                    map[string]string
}

func newFakeIronic() *fakeIronic {
	return &fakeIronic{nodes: map[string]*fakeIronicNode{}, fail: map[string]error{}}
}

func (f *fakeIronic) node(id string) *fakeIronicNode {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nodes[id]
}

// active adds an active node, as one a source cloud runs.
func (f *fakeIronic) active(id, name string, macs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodes[id] = &fakeIronicNode{uuid: id, name: name, state: "active", power: "power on", macs: macs}
}

func (f *fakeIronic) driver() *drivertest.FuncDriver {
	d := &drivertest.FuncDriver{
		InfoFunc: func(context.Context) (driver.Info, error) {
			return driver.Info{Name: "fakeironic", Version: "1", Capabilities: []string{
				driver.CapabilityDiscover, driver.CapabilityAdopt, driver.CapabilityStates,
				driver.CapabilityEnroll, driver.CapabilityExport, driver.CapabilityRelease}}, nil
		},
	}
	d.EnrollFunc = func(_ context.Context, req driver.EnrollRequest) (driver.EnrollState, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		n := f.nodes[req.NodeUUID]
		if n == nil {
			if err := f.fail["enroll:create"]; err != nil {
				return driver.EnrollState{}, err
			}
			for _, o := range f.nodes {
				if o.name == req.Machine.Name {
					return driver.EnrollState{}, driver.Conflict("a node named %s exists", o.name)
				}
				for _, p := range req.Machine.Ports {
					if slices.Contains(o.macs, p.MAC) {
						return driver.EnrollState{}, driver.Conflict("a port with MAC %s exists", p.MAC)
					}
				}
			}
			n = &fakeIronicNode{uuid: req.NodeUUID, name: req.Machine.Name, state: "enroll", marker: req.MigrationID,
				secrets: req.Secrets, power: req.Machine.PowerState}
			for _, p := range req.Machine.Ports {
				n.macs = append(n.macs, p.MAC)
			}
			f.nodes[req.NodeUUID] = n
			f.verbs = append(f.verbs, "create "+req.NodeUUID)
			return driver.EnrollState{ProvisionState: "enroll"}, nil
		}
		if n.marker != req.MigrationID {
			return driver.EnrollState{}, driver.Conflict("node %s is not migration %s's", n.uuid, req.MigrationID)
		}
		if err := f.fail["enroll:"+n.state]; err != nil {
			return driver.EnrollState{}, err
		}
		switch n.state {
		case "enroll":
			n.state = "manageable"
			f.verbs = append(f.verbs, "manage "+n.uuid)
		case "manageable":
			n.state = "active"
			f.verbs = append(f.verbs, "adopt "+n.uuid)
		case "active":
			if !n.protected {
				n.protected = true
				f.verbs = append(f.verbs, "protect "+n.uuid)
			}
			return driver.EnrollState{ProvisionState: "active", Protected: true, Done: true}, nil
		}
		return driver.EnrollState{ProvisionState: n.state}, nil
	}
	d.CheckEnrollFunc = func(_ context.Context, req driver.EnrollRequest) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.nodes[req.NodeUUID] != nil {
			return driver.Conflict("a node with uuid %s exists", req.NodeUUID)
		}
		for _, o := range f.nodes {
			if o.name == req.Machine.Name {
				return driver.Conflict("a node named %s exists", o.name)
			}
			for _, p := range req.Machine.Ports {
				if slices.Contains(o.macs, p.MAC) {
					return driver.Conflict("a port with MAC %s exists", p.MAC)
				}
			}
		}
		return nil
	}
	d.DeleteEnrolledFunc = func(_ context.Context, migration, id string) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if err := f.fail["delete"]; err != nil {
			return err
		}
		n := f.nodes[id]
		switch {
		case n == nil:
			return nil
		case n.marker != migration || n.instance != "":
			return driver.Conflict("node %s is not migration %s's", id, migration)
		}
		delete(f.nodes, id)
		f.verbs = append(f.verbs, "delete "+id)
		return nil
	}
	d.ExportFunc = func(_ context.Context, id string) (driver.Export, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if err := f.fail["export"]; err != nil {
			return driver.Export{}, err
		}
		n := f.nodes[id]
		if n == nil {
			return driver.Export{}, driver.NotFound("node %s not found", id)
		}
		m := driver.Machine{Name: n.name, Driver: "fake-hardware", DriverInfo: map[string]any{"user": "admin"}, Secrets: []string{"password"}}
		for _, mac := range n.macs {
			m.Ports = append(m.Ports, driver.MachinePort{MAC: mac, Network: "source-net", PhysicalNetwork: "physnet1"})
		}
		return driver.Export{Machine: m, State: driver.NodeState{NodeUUID: id, Exists: true, InstanceUUID: n.instance,
			ProvisionState: n.state, PowerState: n.power}, Maintenance: n.maintenance, Protected: n.protected}, nil
	}
	d.HoldFunc = func(_ context.Context, migration, id string) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if err := f.fail["hold"]; err != nil {
			return err
		}
		n := f.nodes[id]
		switch {
		case n == nil:
			return driver.NotFound("node %s not found", id)
		case n.maintenance && n.maintReason == "mogan-manage migration "+migration:
			return nil
		case n.maintenance || n.protected || n.instance != "" || n.state != "active":
			return driver.NotManageable(id, "cannot be held")
		}
		n.maintenance, n.maintReason = true, "mogan-manage migration "+migration
		f.verbs = append(f.verbs, "hold "+id)
		return nil
	}
	d.UnholdFunc = func(_ context.Context, migration, id string) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if n := f.nodes[id]; n != nil && n.maintReason == "mogan-manage migration "+migration {
			n.maintenance, n.maintReason = false, ""
			f.verbs = append(f.verbs, "unhold "+id)
		}
		return nil
	}
	d.ReleaseFunc = func(_ context.Context, migration, id string) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if err := f.fail["release"]; err != nil {
			return err
		}
		n := f.nodes[id]
		switch {
		case n == nil:
			return nil
		case n.maintReason != "mogan-manage migration "+migration:
			return driver.Conflict("node %s is not held by migration %s", id, migration)
		}
		delete(f.nodes, id)
		f.verbs = append(f.verbs, "release "+id)
		return nil
	}
	d.StatesFunc = func(_ context.Context, ids []string) ([]driver.NodeState, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var out []driver.NodeState
		for _, id := range ids {
			n := f.nodes[id]
			if n == nil {
				out = append(out, driver.NodeState{NodeUUID: id})
				continue
			}
			out = append(out, driver.NodeState{NodeUUID: id, Exists: true, InstanceUUID: n.instance, PowerState: n.power, ProvisionState: n.state})
		}
		return out, nil
	}
	d.GetFunc = func(_ context.Context, id string) (driver.Node, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		n := f.nodes[id]
		if n == nil {
			return driver.Node{}, driver.NotFound("node %s not found", id)
		}
		node := driver.Node{UUID: id, Name: n.name, PowerState: "power on", ProvisionState: n.state, Manageable: n.state == "active" && n.instance == "" && !n.maintenance}
		if !node.Manageable {
			node.Reason = "not adoptable"
		}
		return node, nil
	}
	d.ManageFunc = func(_ context.Context, req driver.ManageRequest) (driver.Node, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if err := f.fail["manage"]; err != nil {
			return driver.Node{}, err
		}
		n := f.nodes[req.NodeUUID]
		if n == nil {
			return driver.Node{}, driver.NotFound("node %s not found", req.NodeUUID)
		}
		if n.instance != "" && n.instance != req.ServerUUID {
			return driver.Node{}, driver.Conflict("node %s is associated with %s", n.uuid, n.instance)
		}
		n.instance = req.ServerUUID
		return driver.Node{UUID: n.uuid, Name: n.name, PowerState: "power on", ProvisionState: n.state, Manageable: true}, nil
	}
	d.UnmanageFunc = func(_ context.Context, req driver.ManageRequest) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if n := f.nodes[req.NodeUUID]; n != nil && n.instance == req.ServerUUID {
			n.instance = ""
		}
		return nil
	}
	return d
}

// Neutron's side of a migration, on the fake.
func (f *fakeNeutron) ResolveNetwork(_ context.Context, nameOrID string) (neutron.Network, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return neutron.Network{}, fmt.Errorf("%w: Neutron is down", neutron.ErrUnavailable)
	}
	var found []neutron.Network
	for _, n := range f.networks {
		if n.ID == nameOrID || n.Name == nameOrID {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 0:
		return neutron.Network{}, fmt.Errorf("%w: %q", neutron.ErrNetworkNotFound, nameOrID)
	case 1:
		return found[0], nil
	}
	return neutron.Network{}, fmt.Errorf("%w: %q", neutron.ErrNetworkAmbiguous, nameOrID)
}

func (f *fakeNeutron) PortsByMAC(_ context.Context, mac string) ([]neutron.Port, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []neutron.Port
	for _, p := range f.ports {
		if strings.EqualFold(p.MACAddress, mac) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (f *fakeNeutron) PortsByFixedIP(_ context.Context, networkID, ip string) ([]neutron.Port, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []neutron.Port
	for _, p := range f.ports {
		if p.NetworkID == networkID && slices.ContainsFunc(p.FixedIPs, func(x neutron.FixedIP) bool { return x.IPAddress == ip }) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (f *fakeNeutron) CreatePort(_ context.Context, name, networkID, mac string, fixedIPs []string) (neutron.Port, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return neutron.Port{}, fmt.Errorf("%w: Neutron is down", neutron.ErrUnavailable)
	}
	p := neutron.Port{ID: uuid.NewString(), Name: name, NetworkID: networkID, MACAddress: mac, VNICType: "normal"}
	for _, ip := range fixedIPs {
		p.FixedIPs = append(p.FixedIPs, neutron.FixedIP{IPAddress: ip})
	}
	f.ports[p.ID] = p
	f.created = append(f.created, p.ID)
	return p, nil
}

func (f *fakeNeutron) DeletePort(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ports, id)
	return nil
}
