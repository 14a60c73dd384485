package drivertest

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
)

// DefaultTimeout bounds each call the kit makes when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config says which plugin to check.
type Config struct {
	// Path of the built plugin binary (see Build).
	Path string
	// Options are passed to Configure, as the host passes its [<name>]
	// section; the driver must accept them.
	Options map[string]string
	// Timeout bounds each call; zero means DefaultTimeout.
	Timeout time.Duration
	// Logger receives the plugin's log lines; nil writes them to the test
	// output.
	Logger hclog.Logger
	// Adopt, when true, also checks a whole adoption: the kit manages the
	// first listed node as a fresh server (twice), reads it back, and
	// releases it. This TOUCHES A REAL NODE of the backend the Options point
	// at — its association, never the running machine — so set it only
	// against a test backend. The node is released even when a check fails
	// (unless the plugin or the backend dies first). Needs the discover and
	// adopt capabilities and at least one listed node.
	Adopt bool
	// Enroll, when set, also checks the enroll capability of a driver
	// that claims it: the kit ENROLLS MACHINES INTO THE BACKEND the
	// Options point at (fake ones, from Enroll.Machine) and undoes them.
	// Without it a driver that claims enroll is checked no further than
	// its claim.
	Enroll *EnrollConfig
	// Handoff, when set, also checks the export and release capabilities
	// of a driver that claims them, against nodes the caller prepared: the
	// kit HOLDS, UNHOLDS AND DELETES NODES of the backend (release.go).
	Handoff *HandoffConfig
	// Observer, when set, sees every request the driver makes to its
	// backend: the kit then asserts that none of the whole run touches a
	// machine, and that each EnrollNode call makes one transition at most.
	Observer Observer
}

// Run checks the plugin at cfg.Path against the contract. Discovery checks
// that need nodes (limit, marker, cancellation, reading a listed node's
// state) are skipped, saying so, when the driver lists fewer nodes than
// they need: give the driver a backend with at least two manageable nodes
// to run them all. Without Config.Adopt and Config.Enroll, nothing the kit
// does changes the backend: adoption is checked with node UUIDs nobody
// has, and a capability the driver does not claim with calls that must
// answer ErrNotImplemented.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: t.Output(), Level: hclog.Debug})
	}
	k := &kit{cfg: cfg}
	if !t.Run("handshake", k.handshake) {
		return
	}
	t.Cleanup(k.plugin.Kill)
	if !t.Run("GetInfo", k.getInfo) || !t.Run("GetConfigSchema", k.configSchema) || !t.Run("Configure", k.configure) {
		return
	}
	t.Run("discover", k.discover)
	t.Run("adopt", k.adopt)
	t.Run("node states", k.nodeStates)
	t.Run("migration capabilities not claimed", k.migrationNotImplemented)
	if cfg.Adopt {
		t.Run("adopt a listed node", k.adoptListed)
	}
	switch {
	case k.has(driver.CapabilityEnroll) && cfg.Enroll != nil:
		t.Run("enroll", k.enroll)
	case k.has(driver.CapabilityEnroll):
		t.Log("the driver claims enroll, but Config.Enroll is not set: enrollment is not exercised")
	}
	switch {
	case cfg.Handoff != nil:
		t.Run("handoff", k.handoff)
	case k.has(driver.CapabilityExport) || k.has(driver.CapabilityRelease):
		t.Log("the driver claims export or release, but Config.Handoff is not set: the handoff is not exercised")
	}
	if cfg.Observer != nil {
		t.Run("no forbidden verb", k.noForbiddenVerb)
	}
	t.Run("still answers", k.stillAnswers)
}

// Build compiles the Go package pkg (an import path or a directory) into a
// temporary directory as mogan-driver-<name> and returns the binary's path.
func Build(t testing.TB, pkg, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mogan-driver-"+name)
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", path, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return path
}

// kit holds what the subtests share: the running plugin and its info.
type kit struct {
	cfg    Config
	plugin *driverplugin.Plugin
	info   driver.Info
	// listed are the UUIDs of the whole listing, in order (discover).
	listed []string
	// seen are the backend requests the Observer reported so far.
	seen []BackendRequest
}

// ctx bounds one call of the kit.
func (k *kit) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), k.cfg.Timeout)
	t.Cleanup(cancel)
	return ctx
}

func (k *kit) driver() driver.Full { return k.plugin.Driver() }

func (k *kit) handshake(t *testing.T) {
	p, err := driverplugin.Launch(driverplugin.LaunchConfig{Path: k.cfg.Path, Logger: k.cfg.Logger})
	if err != nil {
		t.Fatalf("launching %s: %v", k.cfg.Path, err)
	}
	k.plugin = p
	if p.Pid() <= 0 {
		t.Errorf("plugin pid = %d after handshake", p.Pid())
	}
}

func (k *kit) configure(t *testing.T) {
	if err := k.driver().Configure(k.ctx(t), k.cfg.Options); err != nil {
		t.Fatalf("Configure(%v): %v", k.cfg.Options, err)
	}
}

func (k *kit) stillAnswers(t *testing.T) {
	if k.plugin.Exited() {
		t.Fatal("the plugin process exited during the checks")
	}
	if _, err := k.driver().Info(k.ctx(t)); err != nil {
		t.Fatalf("GetInfo after the checks: %v", err)
	}
}
