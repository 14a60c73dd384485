package ironicdriver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// pageLimit is the test Ironic's [api] max_limit: small, so that the
// fixture spans several pages.
const pageLimit = 5

// The fixture's resource classes: listRC nodes are never left managed (the
// listing tests compare them exactly; only the conformance kit adopts one
// for a moment, and releases it); each adoption test enrolls its own
// scratchRC node; the enroll tests' machines are of enrollRC.
const (
	listRC    = "baremetal"
	scratchRC = "scratch"
	enrollRC  = "enrolled"
)

// testEnv is the one standalone Ironic of this package and what it holds.
type testEnv struct {
	ironic  *ironic.Server
	fixture []ironic.Node
	plugin  string // built mogan-driver-ironic
}

// env is started on the first test that needs it (ironicEnv), so that the
// pure tests (TestUnit…) run offline in seconds:
//
//	go test ./plugins/ironic/ironicdriver -run Unit
var env struct {
	once sync.Once
	err  error
	dir  string
	testEnv
}

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	code := m.Run()
	if env.ironic != nil {
		_ = env.ironic.Stop()
	}
	if env.dir != "" {
		_ = os.RemoveAll(env.dir)
	}
	return code
}

// ironicEnv returns the package's Ironic, with its fixture and the built
// plugin, starting them on first use; a failed start fails every test
// that needs them.
func ironicEnv(t testing.TB) *testEnv {
	t.Helper()
	env.once.Do(func() { env.err = startEnv() })
	if env.err != nil {
		t.Fatal(env.err)
	}
	return &env.testEnv
}

func startEnv() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "ironicdriver-test-")
	if err != nil {
		return err
	}
	env.dir = dir
	env.plugin = filepath.Join(dir, "mogan-driver-ironic")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", env.plugin, "../cmd/mogan-driver-ironic").CombinedOutput(); err != nil {
		return fmt.Errorf("building the plugin: %w\n%s", err, out)
	}
	// Automated cleaning on, as Ironic's own default: a stray provide
	// would show as cleaning. Redfish, for a BMC that fails manage.
	env.ironic, err = ironic.Start(ctx, ironic.Options{Dir: filepath.Join(dir, "ironic"), MaxLimit: pageLimit, DieWithParent: true,
		AutomatedClean: true, Redfish: true})
	if err != nil {
		return err
	}
	env.fixture, err = env.ironic.Fixture().Enroll(ctx, ironic.Mix{
		Adoptable: 2*pageLimit + 2, Associated: 1, Maintenance: 1, Available: 1, NoResourceClass: 1,
		ResourceClass: listRC,
	})
	if err != nil {
		return fmt.Errorf("fixture: %w\nironic log: %s", err, env.ironic.Log)
	}
	return nil
}

// options configure a driver for the test Ironic.
func options(t testing.TB) map[string]string {
	return map[string]string{"url": ironicEnv(t).ironic.URL}
}

// newTestDriver is an in-process driver on the test Ironic.
func newTestDriver(t *testing.T) *Driver {
	t.Helper()
	d := newDriver(hclog.New(&hclog.LoggerOptions{Output: t.Output(), Level: hclog.Debug}))
	if err := d.Configure(t.Context(), options(t)); err != nil {
		t.Fatal(err)
	}
	return d
}

// launch runs the built plugin, configured for the test Ironic, as the
// host would.
func launch(t *testing.T) driver.Full {
	t.Helper()
	p, err := driverplugin.Launch(driverplugin.LaunchConfig{
		Path:   ironicEnv(t).plugin,
		Logger: hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: t.Output(), Level: hclog.Debug}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	if err := p.Driver().Configure(t.Context(), options(t)); err != nil {
		t.Fatal(err)
	}
	return p.Driver()
}

// fixtureOf returns the fixture nodes of one kind.
func fixtureOf(t testing.TB, kind ironic.Kind) []ironic.Node {
	var out []ironic.Node
	for _, n := range ironicEnv(t).fixture {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// scratchNode enrolls a fresh adoptable node for a test that manages it.
func scratchNode(t *testing.T) ironic.Node {
	t.Helper()
	nodes, err := ironicEnv(t).ironic.Fixture().Enroll(t.Context(), ironic.Mix{Adoptable: 1, ResourceClass: scratchRC})
	if err != nil {
		t.Fatal(err)
	}
	return nodes[0]
}

// list collects a listing.
func list(t *testing.T, d driver.Discoverer, opts driver.ListOptions) []driver.Node {
	t.Helper()
	var out []driver.Node
	if err := d.ListManageableNodes(t.Context(), opts, func(n driver.Node) error {
		out = append(out, n)
		return nil
	}); err != nil {
		t.Fatalf("ListManageableNodes(%+v): %v", opts, err)
	}
	return out
}

// want is what a driver should report for a fixture node.
func want(n ironic.Node) driver.Node {
	out := driver.Node{
		UUID: n.UUID, Name: n.Name, ResourceClass: n.ResourceClass,
		PowerState: "power on", ProvisionState: "active",
		ImageSource: n.ImageSource, InstanceUUID: n.InstanceUUID,
		Ports: []driver.Port{}, Portgroups: []driver.Portgroup{},
	}
	for _, p := range n.Ports {
		out.Ports = append(out.Ports, driver.Port{UUID: p.UUID, Address: p.Address, NeutronPortID: p.NeutronPortID})
	}
	for _, pg := range n.Portgroups {
		out.Portgroups = append(out.Portgroups, driver.Portgroup{UUID: pg.UUID, Address: pg.Address, Mode: pg.Mode, NeutronPortID: pg.NeutronPortID})
	}
	switch n.Kind {
	case ironic.KindAdoptable:
		out.Manageable = true
	case ironic.KindAssociated:
		out.Reason = "node is associated with instance " + n.InstanceUUID
	case ironic.KindMaintenance:
		out.Reason = "node is in maintenance"
	case ironic.KindAvailable:
		out.ProvisionState = "available"
		out.PowerState = "" // the fixture never powers it; Ironic says null
		out.Reason = "provision state is available, not active"
	case ironic.KindNoResourceClass:
		out.Reason = "resource_class is not set"
	}
	return out
}
