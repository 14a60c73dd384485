package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

// A migration's backends and Neutron, faked: the API's tests run real
// migrations through the application layer on them (host/e2e runs them
// on real Ironics and Neutron).

// cloud is one backend: nodes by uuid, each EnrollNode call one
// transition (enroll → manageable → active → protected), as DESIGN's
// contract says.
type cloud struct {
	mu    sync.Mutex
	nodes map[string]*cloudNode
	// stuck keeps enrolled nodes in enroll (a BMC that takes its time):
	// the migration polls until cancelled or timed out.
	stuck bool
	// manageFails fails adoptions (Manage) while set.
	manageFails bool
	// holdManage, when set, makes Manage wait for it to be closed.
	holdManage chan struct{}
	// secrets are the Secrets of every EnrollNode call, in order.
	secrets []map[string]string
}

type cloudNode struct {
	uuid, name, state, marker, instance string
	macs                                []string
	maintenance                         bool
	maintReason                         string
	protected                           bool
}

func newCloud() *cloud { return &cloud{nodes: map[string]*cloudNode{}} }

// active adds a node running in this cloud, as a source cloud has them.
func (c *cloud) active(id, name string, macs ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes[id] = &cloudNode{uuid: id, name: name, state: "active", macs: macs}
}

func (c *cloud) node(id string) (cloudNode, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nodes[id]
	if !ok {
		return cloudNode{}, false
	}
	return *n, true
}

func (c *cloud) set(f func(c *cloud)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c)
}

func (c *cloud) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.nodes)
}

// driver is the cloud as a backend that can discover, adopt, enroll,
// export and hand nodes over.
func (c *cloud) driver() *drivertest.FuncDriver {
	held := func(migration string) string { return "mogan-manage migration " + migration }
	return &drivertest.FuncDriver{
		InfoFunc: func(context.Context) (driver.Info, error) {
			return driver.Info{Name: "cloud", Version: "1", Capabilities: []string{
				driver.CapabilityDiscover, driver.CapabilityAdopt, driver.CapabilityStates,
				driver.CapabilityEnroll, driver.CapabilityExport, driver.CapabilityRelease}}, nil
		},
		EnrollFunc: func(_ context.Context, req driver.EnrollRequest) (driver.EnrollState, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			n := c.nodes[req.NodeUUID]
			if n == nil {
				for _, o := range c.nodes {
					if req.Machine.Name != "" && o.name == req.Machine.Name {
						return driver.EnrollState{}, driver.Conflict("a node named %s exists", o.name)
					}
				}
				n = &cloudNode{uuid: req.NodeUUID, name: req.Machine.Name, state: "enroll", marker: req.MigrationID}
				for _, p := range req.Machine.Ports {
					n.macs = append(n.macs, p.MAC)
				}
				c.nodes[req.NodeUUID] = n
				c.secrets = append(c.secrets, req.Secrets)
				return driver.EnrollState{ProvisionState: "enroll"}, nil
			}
			if n.marker != req.MigrationID {
				return driver.EnrollState{}, driver.Conflict("node %s is not migration %s's", n.uuid, req.MigrationID)
			}
			switch {
			case c.stuck:
			case n.state == "enroll":
				n.state = "manageable"
			case n.state == "manageable":
				n.state = "active"
			case n.state == "active":
				n.protected = true
				return driver.EnrollState{ProvisionState: "active", Protected: true, Done: true}, nil
			}
			return driver.EnrollState{ProvisionState: n.state}, nil
		},
		DeleteEnrolledFunc: func(_ context.Context, migration, id string) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			n := c.nodes[id]
			switch {
			case n == nil:
				return nil
			case n.marker != migration || n.instance != "":
				return driver.Conflict("node %s is not migration %s's", id, migration)
			}
			delete(c.nodes, id)
			return nil
		},
		ExportFunc: func(_ context.Context, id string) (driver.Export, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			n := c.nodes[id]
			if n == nil {
				return driver.Export{}, driver.NotFound("node %s could not be found", id)
			}
			m := driver.Machine{Name: n.name, Driver: "redfish", DriverInfo: map[string]any{"redfish_address": "https://bmc"},
				Secrets: []string{"redfish_password"}}
			for _, mac := range n.macs {
				m.Ports = append(m.Ports, driver.MachinePort{MAC: mac, PhysicalNetwork: "physnet1"})
			}
			return driver.Export{Machine: m, State: driver.NodeState{NodeUUID: id, Exists: true, InstanceUUID: n.instance,
				ProvisionState: n.state, PowerState: "power on"}, Maintenance: n.maintenance, Protected: n.protected}, nil
		},
		HoldFunc: func(_ context.Context, migration, id string) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			n := c.nodes[id]
			switch {
			case n == nil:
				return driver.NotFound("node %s could not be found", id)
			case n.maintenance && n.maintReason == held(migration):
				return nil
			case n.maintenance || n.protected || n.instance != "" || n.state != "active":
				return driver.NotManageable(id, "cannot be held")
			}
			n.maintenance, n.maintReason = true, held(migration)
			return nil
		},
		UnholdFunc: func(_ context.Context, migration, id string) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			if n := c.nodes[id]; n != nil && n.maintReason == held(migration) {
				n.maintenance, n.maintReason = false, ""
			}
			return nil
		},
		ReleaseFunc: func(_ context.Context, migration, id string) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			n := c.nodes[id]
			switch {
			case n == nil:
				return nil
			case n.maintReason != held(migration):
				return driver.Conflict("node %s is not held by migration %s", id, migration)
			}
			delete(c.nodes, id)
			return nil
		},
		StatesFunc: func(_ context.Context, ids []string) ([]driver.NodeState, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			var out []driver.NodeState
			for _, id := range ids {
				if n := c.nodes[id]; n != nil {
					out = append(out, driver.NodeState{NodeUUID: id, Exists: true, InstanceUUID: n.instance,
						PowerState: "power on", ProvisionState: n.state})
					continue
				}
				out = append(out, driver.NodeState{NodeUUID: id})
			}
			return out, nil
		},
		ListFunc: func(context.Context, driver.ListOptions, func(driver.Node) error) error { return nil },
		GetFunc: func(_ context.Context, id string) (driver.Node, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			n := c.nodes[id]
			if n == nil {
				return driver.Node{}, driver.NotFound("node %s could not be found", id)
			}
			node := driver.Node{UUID: id, Name: n.name, PowerState: "power on", ProvisionState: n.state,
				Manageable: n.state == "active" && n.instance == "" && !n.maintenance}
			if !node.Manageable {
				node.Reason = "not adoptable"
			}
			return node, nil
		},
		ManageFunc: func(ctx context.Context, req driver.ManageRequest) (driver.Node, error) {
			c.mu.Lock()
			hold := c.holdManage
			c.mu.Unlock()
			if hold != nil {
				select {
				case <-hold:
				case <-ctx.Done():
					return driver.Node{}, ctx.Err()
				}
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.manageFails {
				return driver.Node{}, driver.Unavailable("the backend is down")
			}
			n := c.nodes[req.NodeUUID]
			if n == nil {
				return driver.Node{}, driver.NotFound("node %s could not be found", req.NodeUUID)
			}
			n.instance = req.ServerUUID
			return driver.Node{UUID: n.uuid, Name: n.name, PowerState: "power on", ProvisionState: n.state, Manageable: true}, nil
		},
		UnmanageFunc: func(_ context.Context, req driver.ManageRequest) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			if n := c.nodes[req.NodeUUID]; n != nil && n.instance == req.ServerUUID {
				n.instance = ""
			}
			return nil
		},
	}
}

// fakeNetworks is Neutron as manage needs it: the networks "prov" and
// "dup" (twice), ports by id.
type fakeNetworks struct {
	mu       sync.Mutex
	networks []neutron.Network
	ports    map[string]neutron.Port
}

const netProv = "11111111-0000-4000-8000-000000000001"

func newFakeNetworks() *fakeNetworks {
	return &fakeNetworks{
		networks: []neutron.Network{{ID: netProv, Name: "prov"},
			{ID: "22222222-0000-4000-8000-000000000001", Name: "dup"}, {ID: "22222222-0000-4000-8000-000000000002", Name: "dup"}},
		ports: map[string]neutron.Port{},
	}
}

func (f *fakeNetworks) portIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id := range f.ports {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (f *fakeNetworks) add(p neutron.Port) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ports[p.ID] = p
}

func (f *fakeNetworks) Ports(_ context.Context, ids []string) (map[string]neutron.Port, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]neutron.Port{}
	for _, id := range ids {
		if p, ok := f.ports[id]; ok {
			out[id] = p
		}
	}
	return out, nil
}

func (f *fakeNetworks) Bind(_ context.Context, id, host, vnic string) (neutron.Port, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.ports[id]
	p.HostID, p.VNICType = host, vnic
	f.ports[id] = p
	return p, nil
}

func (f *fakeNetworks) ResolveNetwork(_ context.Context, nameOrID string) (neutron.Network, error) {
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

func (f *fakeNetworks) PortsByMAC(_ context.Context, mac string) ([]neutron.Port, error) {
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

func (f *fakeNetworks) PortsByFixedIP(_ context.Context, networkID, ip string) ([]neutron.Port, error) {
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

func (f *fakeNetworks) CreatePort(_ context.Context, _, networkID, mac string, fixedIPs []string) (neutron.Port, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := neutron.Port{ID: uuid.NewString(), NetworkID: networkID, MACAddress: mac}
	for _, ip := range fixedIPs {
		p.FixedIPs = append(p.FixedIPs, neutron.FixedIP{IPAddress: ip})
	}
	f.ports[p.ID] = p
	return p, nil
}

func (f *fakeNetworks) DeletePort(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ports, id)
	return nil
}

// migrationHarness is the API over two clouds, east (a source) and west
// (a target), both able to enroll (so a body names its target), and the
// fake Neutron; its logs, at trace, are kept in logs.
type migrationHarness struct {
	*harness
	east, west *cloud
	// eastDriver and westDriver count their calls.
	eastDriver, westDriver *drivertest.FuncDriver
	networks               *fakeNetworks
	logs                   *syncBuffer
	// user and password, when set, are wait's credentials (http_basic).
	user, password string
}

// read GETs path, with the harness's credentials when it has them.
func (mh *migrationHarness) read(t *testing.T, path string) response {
	t.Helper()
	if mh.user != "" {
		return mh.as(t, mh.user, mh.password, http.MethodGet, path, "")
	}
	return mh.get(t, path)
}

// syncBuffer is a log sink many goroutines write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newMigrationHarness(t testing.TB, authn ...auth.Authenticator) *migrationHarness {
	t.Helper()
	mh := &migrationHarness{east: newCloud(), west: newCloud(), networks: newFakeNetworks(), logs: &syncBuffer{}}
	mh.eastDriver, mh.westDriver = mh.east.driver(), mh.west.driver()
	log := hclog.New(&hclog.LoggerOptions{Name: "mogan-api", Level: hclog.Trace, Output: mh.logs})
	var a auth.Authenticator
	if len(authn) > 0 {
		a = authn[0]
	} else {
		var err error
		if a, err = auth.New(t.Context(), auth.Config{Strategy: "noauth"}, log); err != nil {
			t.Fatal(err)
		}
	}
	mh.harness = newHarnessFrom(t, harnessConfig{
		driver:   mh.westDriver,
		backends: []manage.Backend{{Name: "east", Driver: mh.eastDriver}, {Name: "west", Driver: mh.westDriver}},
		auth:     a,
		log:      log,
		manage: func(c *manage.Config) {
			c.Networks = mh.networks
			c.Migration = manage.MigrationConfig{MaxConcurrent: 4, EnrollTimeout: 20 * time.Second}
		},
	})
	return mh
}

// calls counts the calls both backends were made.
func (mh *migrationHarness) calls() int64 { return mh.eastDriver.Calls() + mh.westDriver.Calls() }

// migrationBody is a migration's body as the tests read it.
type migrationBody struct {
	UUID   string `json:"uuid"`
	Status string `json:"status"`
	Source struct {
		Machine *struct {
			Name *string `json:"name"`
		} `json:"machine"`
		Backend  string `json:"backend"`
		NodeUUID string `json:"node_uuid"`
	} `json:"source"`
	Target struct {
		Backend string `json:"backend"`
	} `json:"target"`
	NodeUUID   string  `json:"node_uuid"`
	ServerUUID *string `json:"server_uuid"`
	Steps      []struct {
		Name       string  `json:"name"`
		Status     string  `json:"status"`
		StartedAt  *string `json:"started_at"`
		FinishedAt *string `json:"finished_at"`
		Error      *string `json:"error"`
	} `json:"steps"`
	RequestID *string `json:"request_id"`
	Error     *string `json:"error"`
	CreatedAt *string `json:"created_at"`
	UpdatedAt *string `json:"updated_at"`
	Links     []struct {
		Href string `json:"href"`
		Rel  string `json:"rel"`
	} `json:"links"`
}

func decodeMigration(t *testing.T, r response) migrationBody {
	t.Helper()
	var m migrationBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("migration body %s: %v", r.body, err)
	}
	return m
}

func (m migrationBody) steps() []string {
	var out []string
	for _, st := range m.Steps {
		out = append(out, st.Name+"="+st.Status)
	}
	return out
}

// migrate posts body to /v1/migrations, wanting status.
func (mh *migrationHarness) migrate(t *testing.T, body string, status int) migrationBody {
	t.Helper()
	r := mh.postJSON(t, "/v1/migrations", body)
	if r.status != status {
		t.Fatalf("POST /v1/migrations: %d; want %d (%s)", r.status, status, r.body)
	}
	return decodeMigration(t, r)
}

// wait polls a migration until its status is one of want (by default,
// an end: done, failed or rolled_back).
func (mh *migrationHarness) wait(t *testing.T, id string, want ...string) migrationBody {
	t.Helper()
	if len(want) == 0 {
		want = []string{"done", "failed", "rolled_back"}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := mh.read(t, "/v1/migrations/"+id)
		if r.status != http.StatusOK {
			t.Fatalf("GET migration %s: %d %s", id, r.status, r.body)
		}
		m := decodeMigration(t, r)
		if slices.Contains(want, m.Status) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("migration %s still %s %v; want %v", id, m.Status, m.steps(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settle waits until every migration has ended: the backends are called
// by none.
func (mh *migrationHarness) settle(t *testing.T) {
	t.Helper()
	for _, id := range decodeList(t, mh.read(t, "/v1/migrations")) {
		mh.wait(t, id)
	}
}

// waitStep polls a migration until it has recorded step name.
func (mh *migrationHarness) waitStep(t *testing.T, id, name string) migrationBody {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := decodeMigration(t, mh.read(t, "/v1/migrations/"+id))
		for _, st := range m.Steps {
			if st.Name == name {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("migration %s: no step %s yet: %s %v", id, name, m.Status, m.steps())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
