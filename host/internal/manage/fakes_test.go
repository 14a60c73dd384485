package manage

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/glance"
	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/notify"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

// Fakes of the parts around the workflow, for the error paths a real
// Ironic or Neutron cannot be made to produce on demand; the end-to-end
// tests (host/e2e) run the same workflow against the real services.

// fakeBackend is a driver backend: nodes with an association and power.
type fakeBackend struct {
	mu    sync.Mutex
	nodes map[string]*fakeNode
	// fail makes a call fail: key "get", "manage", "unmanage", "states".
	fail map[string]error
	// lateManage makes Manage associate the node but answer this error
	// (a PATCH that landed after the host gave up).
	lateManage error
}

type fakeNode struct {
	node     driver.Node
	instance string
	gone     bool
}

func newBackend(nodes ...driver.Node) *fakeBackend {
	b := &fakeBackend{nodes: map[string]*fakeNode{}, fail: map[string]error{}}
	for _, n := range nodes {
		b.nodes[n.UUID] = &fakeNode{node: n}
	}
	return b
}

func (b *fakeBackend) instanceOf(node string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.nodes[node].instance
}

func (b *fakeBackend) set(fn func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fn()
}

func (b *fakeBackend) driver() *drivertest.FuncDriver {
	lookup := func(id string) (*fakeNode, error) {
		n, ok := b.nodes[id]
		if !ok || n.gone {
			return nil, driver.NotFound("node %s not found", id)
		}
		return n, nil
	}
	return &drivertest.FuncDriver{
		InfoFunc: func(context.Context) (driver.Info, error) {
			return driver.Info{Name: "fake", Version: "1",
				Capabilities: []string{driver.CapabilityDiscover, driver.CapabilityAdopt, driver.CapabilityStates}}, nil
		},
		ListFunc: func(_ context.Context, opts driver.ListOptions, send func(driver.Node) error) error {
			b.mu.Lock()
			var nodes []driver.Node
			for _, n := range b.nodes {
				if n.instance == "" && !n.gone && n.node.UUID > opts.Marker {
					nodes = append(nodes, n.node)
				}
			}
			b.mu.Unlock()
			slices.SortFunc(nodes, func(a, c driver.Node) int { return strings.Compare(a.UUID, c.UUID) })
			for i, n := range nodes {
				if opts.Limit > 0 && i == opts.Limit {
					return nil
				}
				if err := send(n); err != nil {
					return err
				}
			}
			return nil
		},
		GetFunc: func(_ context.Context, id string) (driver.Node, error) {
			b.mu.Lock()
			defer b.mu.Unlock()
			if err := b.fail["get"]; err != nil {
				return driver.Node{}, err
			}
			n, err := lookup(id)
			if err != nil {
				return driver.Node{}, err
			}
			out := n.node
			if n.instance != "" {
				out.Manageable, out.Reason = false, "node is associated with instance "+n.instance
			}
			return out, nil
		},
		ManageFunc: func(_ context.Context, req driver.ManageRequest) (driver.Node, error) {
			b.mu.Lock()
			defer b.mu.Unlock()
			if err := b.fail["manage"]; err != nil {
				return driver.Node{}, err
			}
			n, err := lookup(req.NodeUUID)
			if err != nil {
				return driver.Node{}, err
			}
			if n.instance != "" && n.instance != req.ServerUUID {
				return driver.Node{}, driver.Conflict("node %s is associated with %s", req.NodeUUID, n.instance)
			}
			n.instance = req.ServerUUID
			if b.lateManage != nil {
				return driver.Node{}, b.lateManage
			}
			out := n.node
			out.InstanceUUID, out.Ports, out.Portgroups = req.ServerUUID, nil, nil
			return out, nil
		},
		UnmanageFunc: func(_ context.Context, req driver.ManageRequest) error {
			b.mu.Lock()
			defer b.mu.Unlock()
			if err := b.fail["unmanage"]; err != nil {
				return err
			}
			if n, err := lookup(req.NodeUUID); err == nil && n.instance == req.ServerUUID {
				n.instance = ""
			}
			return nil
		},
		StatesFunc: func(_ context.Context, ids []string) ([]driver.NodeState, error) {
			b.mu.Lock()
			defer b.mu.Unlock()
			if err := b.fail["states"]; err != nil {
				return nil, err
			}
			out := make([]driver.NodeState, len(ids))
			for i, id := range ids {
				out[i] = driver.NodeState{NodeUUID: id}
				if n, err := lookup(id); err == nil {
					out[i] = driver.NodeState{NodeUUID: id, Exists: true, InstanceUUID: n.instance,
						PowerState: n.node.PowerState, ProvisionState: "active"}
				}
			}
			return out, nil
		},
	}
}

// fakeNeutron holds ports and their bindings.
type fakeNeutron struct {
	mu       sync.Mutex
	ports    map[string]neutron.Port
	networks []neutron.Network
	// created are the ports CreatePort made, in order.
	created []string
	down    bool
	// failBind fails binding this port (to this host) once per entry.
	failBind map[string]error
	lookups  int
}

func newNeutron(ports ...neutron.Port) *fakeNeutron {
	f := &fakeNeutron{ports: map[string]neutron.Port{}, failBind: map[string]error{}}
	for _, p := range ports {
		f.ports[p.ID] = p
	}
	return f
}

func (f *fakeNeutron) Ports(_ context.Context, ids []string) (map[string]neutron.Port, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	if f.down {
		return nil, fmt.Errorf("%w: Neutron at http://127.0.0.1:9696 is unavailable: connection refused", neutron.ErrUnavailable)
	}
	out := map[string]neutron.Port{}
	for _, id := range ids {
		if p, ok := f.ports[id]; ok {
			out[id] = p
		}
	}
	return out, nil
}

func (f *fakeNeutron) Bind(_ context.Context, portID, hostID, vnicType string) (neutron.Port, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return neutron.Port{}, fmt.Errorf("%w: Neutron is down", neutron.ErrUnavailable)
	}
	if err, ok := f.failBind[portID+"@"+hostID]; ok {
		delete(f.failBind, portID+"@"+hostID)
		return neutron.Port{}, err
	}
	p, ok := f.ports[portID]
	if !ok {
		return neutron.Port{}, fmt.Errorf("port %s: %w", portID, neutron.ErrPortNotFound)
	}
	p.HostID, p.VNICType = hostID, vnicType
	f.ports[portID] = p
	return p, nil
}

func (f *fakeNeutron) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *fakeNeutron) binding(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ports[id].HostID + "/" + f.ports[id].VNICType
}

// fakeGlance knows some images.
type fakeGlance struct {
	mu      sync.Mutex
	images  map[string]bool
	down    bool
	lookups int
}

func (g *fakeGlance) Existing(_ context.Context, ids []string) (map[string]bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lookups++
	if g.down {
		return nil, fmt.Errorf("%w: Glance at http://127.0.0.1:9292 is unavailable", glance.ErrUnavailable)
	}
	out := map[string]bool{}
	for _, id := range ids {
		if g.images[id] {
			out[id] = true
		}
	}
	return out, nil
}

// recorder is a notifier that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	events []notify.Notification
}

func (r *recorder) Notify(_ context.Context, n notify.Notification) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, n)
}
func (r *recorder) Close(context.Context) error { return nil }
func (r *recorder) Dropped() uint64             { return 0 }

func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.EventType)
	}
	return out
}

// env is a service over a real SQLite store and the fakes.
type env struct {
	svc     *Service
	store   store.Store
	backend *fakeBackend
	neutron *fakeNeutron
	glance  *fakeGlance
	events  *recorder
}

const (
	nodeA   = "aacdbd78-d670-409e-95aa-ecfcfb94fee2"
	portA1  = "a9b94592-1d8e-46bb-836b-c7ba935b0136"
	portA2  = "a9b94592-1d8e-46bb-836b-c7ba935b0137"
	netA    = "c0d2f8a7-1b5e-4a3c-9f0e-2d6b8a4c1e3f"
	imageA  = "03239419-e588-42b6-a70f-94f23ed0c9e2"
	macA1   = "a4:dc:be:0e:82:a5"
	macA2   = "a4:dc:be:0e:82:a6"
	ownerID = "replica-1"
	// testBackend is the one backend of the service under test.
	testBackend = "test"
	// thisStart is the epoch of the service under test; deadStart that of
	// an earlier start of the same replica, whose intents it repairs.
	thisStart = 2
	deadStart = 1
)

func nodeOf(id string) driver.Node {
	return driver.Node{
		UUID: id, Name: "node-" + id[:4], ResourceClass: "gold", PowerState: "power on", ProvisionState: "active",
		Ports:       []driver.Port{{UUID: "p-" + id, Address: macA1, NeutronPortID: portA1}},
		Portgroups:  []driver.Portgroup{{UUID: "pg-" + id, Address: macA2, NeutronPortID: portA2}},
		ImageSource: imageA, Manageable: true,
	}
}

func newEnv(t *testing.T, opts ...func(*Config)) *env {
	t.Helper()
	st, err := store.OpenWithOptions(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "mogan.sqlite"),
		hclog.NewNullLogger(), store.OpenOptions{CreateIfMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := &env{
		store:   st,
		backend: newBackend(nodeOf(nodeA)),
		neutron: newNeutron(
			neutron.Port{ID: portA1, NetworkID: netA, MACAddress: macA1, VNICType: "normal",
				FixedIPs: []neutron.FixedIP{{IPAddress: "10.0.0.5"}}},
			neutron.Port{ID: portA2, NetworkID: netA, MACAddress: macA2, HostID: "old-host", VNICType: "normal"},
		),
		glance: &fakeGlance{images: map[string]bool{imageA: true}},
		events: &recorder{},
	}
	cfg := Config{
		Store: st, Backends: []Backend{{Name: testBackend, Driver: e.backend.driver()}}, Images: e.glance, Networks: e.neutron, Notifier: e.events,
		Owner: ownerID, Epoch: thisStart, Lease: time.Minute, Logger: hclog.New(&hclog.LoggerOptions{Output: t.Output(), Level: hclog.Debug}),
	}
	for _, o := range opts {
		o(&cfg)
	}
	e.store = cfg.Store
	e.svc = New(cfg)
	return e
}

func request(node string) Request {
	return Request{Name: "adopted", NodeUUID: node, ProjectID: "p", UserID: "u",
		Caller: Caller{RequestID: "req-1", UserID: "u", ProjectID: "p"}}
}

// untouched checks the node, its ports and the store are as before any
// adoption: no server, no intent, node free, ports with their old binding.
func (e *env) untouched(t *testing.T, node string) {
	t.Helper()
	if inst := e.backend.instanceOf(node); inst != "" {
		t.Errorf("node %s still associated with %s", node, inst)
	}
	if _, err := e.store.ServerByNode(t.Context(), node); err == nil {
		t.Errorf("a server still holds node %s", node)
	}
	if got := e.neutron.binding(portA1); got != "/normal" {
		t.Errorf("port %s binding = %q, want its old one", portA1, got)
	}
	if got := e.neutron.binding(portA2); got != "old-host/normal" {
		t.Errorf("port %s binding = %q, want its old one", portA2, got)
	}
}

// deadIntent claims node for a server as an earlier start of this replica
// (a process that died) did: its intent is this replica's, of an earlier
// epoch.
func (e *env) deadIntent(t *testing.T, node string) (store.Server, store.Intent) {
	t.Helper()
	rec := newRecord(request(node), time.Now())
	rec.Backend = testBackend
	in := store.Intent{ServerUUID: rec.UUID, NodeUUID: node, Backend: testBackend, RequestID: "req-dead", UserID: "admin-user",
		ProjectID: "admin-project", Owner: ownerID, OwnerEpoch: deadStart, LeaseExpiresAt: time.Now().Add(time.Hour)}
	if err := e.store.ClaimNode(t.Context(), rec, in); err != nil {
		t.Fatal(err)
	}
	return rec, in
}

// beginStep records a step the way mogan-api wrote its intent log before
// the step table (name and data only, no status), as a process that died
// right after left it: an intent log of today's main must still be
// repaired.
func (e *env) beginStep(t *testing.T, in *store.Intent, name string, data any) {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	step := store.Step{Name: name}
	if data != nil {
		step.Data = raw
	}
	steps := append(append([]store.Step(nil), in.Steps...), step)
	if err := e.store.SaveSteps(t.Context(), *in, steps); err != nil {
		t.Fatal(err)
	}
	in.Steps = steps
}

// setDriver makes d the driver of the service's one backend.
func (e *env) setDriver(d driver.Full) {
	e.svc.backends = newBackendSet([]Backend{{Name: testBackend, Driver: d}})
}
