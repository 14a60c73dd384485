// Package cloud starts a whole small cloud for tests and the demo: a real
// standalone Ironic, and on request Glance and Neutron (each from its
// harness in testenv), started at once, with one flat network and subnet in
// Neutron. Its Enroll makes adoptable nodes whose image_source is a real
// Glance image and whose VIFs are real Neutron ports with the node ports'
// MACs, so that the host's enrichment, MAC checks and bindings meet real
// services; its helpers make the variants a test needs (an image that is a
// URL or unknown, a vanished Neutron port, a MAC mismatch, maintenance).
package cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/testenv/glance"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
	"github.com/mogan-manage/mogan-manage/testenv/neutron"
)

// Options say which services to start and where.
type Options struct {
	// Dir is the working directory (t.TempDir()); each service gets a
	// subdirectory named after it.
	Dir string
	// Glance and Neutron say which services to start besides Ironic.
	Glance, Neutron bool
	// IronicMaxLimit is Ironic's largest page (ironic.Options.MaxLimit);
	// small values exercise paging, zero is Ironic's default.
	IronicMaxLimit int
	// IronicAutomatedClean and IronicRedfish are Ironic's
	// (ironic.Options.AutomatedClean, .Redfish): automated cleaning on, so
	// that a stray provide would show as cleaning; the redfish hardware
	// type, whose BMC at a closed port fails manage at once.
	IronicAutomatedClean, IronicRedfish bool
	// DieWithParent ends every service when the process that started it
	// dies, even without Stop (tests set it). Without it the services
	// outlive their starter and Attach(Dir).Stop() ends them (the demo's
	// CLI, which starts them and exits).
	DieWithParent bool
}

// Cloud is a running set of services.
type Cloud struct {
	Ironic *ironic.Server
	// Glance is nil unless Options.Glance.
	Glance *glance.Glance
	// Neutron is nil unless Options.Neutron.
	Neutron *neutron.Neutron
	// NetworkID and SubnetID are one flat network with an IPv4 subnet,
	// where Enroll creates the VIFs, when Neutron runs.
	NetworkID, SubnetID string
	// ShadowNetworkID holds the VIFs a driver must not report: a
	// portgroup's extra.vif_port_id when its internal_info has one too.
	// Neutron refuses two ports with one MAC on one network, and a VIF on
	// another network also shows in a server's addresses if a driver
	// picked the wrong one.
	ShadowNetworkID string

	dir string
	// bulkPorts serializes BulkEnrollIn's port creation: Neutron's one
	// process on SQLite makes ports slower, not faster, for two writers.
	bulkPorts sync.Mutex
}

// The subnets' CIDRs: /16 so that a few thousand ports fit.
const (
	subnetCIDR       = "10.20.0.0/16"
	shadowSubnetCIDR = "10.21.0.0/16"
)

// stateFile records a cloud in Options.Dir for Attach.
const stateFile = "cloud.json"

type state struct {
	IronicDir       string `json:"ironic_dir"`
	GlanceURL       string `json:"glance_url,omitempty"`
	GlancePID       int    `json:"glance_pid,omitempty"`
	NeutronURL      string `json:"neutron_url,omitempty"`
	NeutronPID      int    `json:"neutron_pid,omitempty"`
	NetworkID       string `json:"network_id,omitempty"`
	SubnetID        string `json:"subnet_id,omitempty"`
	ShadowNetworkID string `json:"shadow_network_id,omitempty"`
}

// Start starts the services concurrently (each takes seconds, mostly
// Python imports), creates the network and subnets, records the cloud in
// opts.Dir and returns it; on any error it stops what started. ctx bounds
// start-up only. The caller must Stop it.
func Start(ctx context.Context, opts Options) (*Cloud, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	c := &Cloud{dir: dir}
	var mu sync.Mutex // guards c's service fields while they start
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		s, err := ironic.Start(gctx, ironic.Options{
			Dir: filepath.Join(dir, "ironic"), MaxLimit: opts.IronicMaxLimit, DieWithParent: opts.DieWithParent,
			AutomatedClean: opts.IronicAutomatedClean, Redfish: opts.IronicRedfish,
		})
		mu.Lock()
		defer mu.Unlock()
		c.Ironic = s
		return err
	})
	if opts.Glance {
		g.Go(func() error {
			var o []glance.Option
			if !opts.DieWithParent {
				o = append(o, glance.WithOutliveParent())
			}
			s, err := glance.Start(gctx, filepath.Join(dir, "glance"), o...)
			mu.Lock()
			defer mu.Unlock()
			c.Glance = s
			return err
		})
	}
	if opts.Neutron {
		g.Go(func() error {
			var o []neutron.Option
			if !opts.DieWithParent {
				o = append(o, neutron.WithOutliveParent())
			}
			s, err := neutron.Start(gctx, filepath.Join(dir, "neutron"), o...)
			mu.Lock()
			defer mu.Unlock()
			c.Neutron = s
			return err
		})
	}
	err = g.Wait()
	if err == nil && c.Neutron != nil {
		err = c.createNetworks(ctx)
	}
	if err == nil {
		err = c.save()
	}
	if err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cloud) createNetworks(ctx context.Context) error {
	var err error
	if c.NetworkID, err = c.Neutron.CreateNetwork(ctx, "provisioning"); err != nil {
		return fmt.Errorf("neutron: create the network: %w", err)
	}
	if c.SubnetID, err = c.Neutron.CreateSubnet(ctx, c.NetworkID, subnetCIDR); err != nil {
		return fmt.Errorf("neutron: create the subnet: %w", err)
	}
	// physnet1 takes one flat network: the shadow one is a tenant (VLAN)
	// network.
	var shadow struct{ Network struct{ ID string } }
	body := map[string]any{"network": map[string]any{"name": "shadow"}}
	if err = c.Neutron.Request(ctx, http.MethodPost, "/networks", body, &shadow); err != nil {
		return fmt.Errorf("neutron: create the shadow network: %w", err)
	}
	c.ShadowNetworkID = shadow.Network.ID
	if _, err = c.Neutron.CreateSubnet(ctx, c.ShadowNetworkID, shadowSubnetCIDR); err != nil {
		return fmt.Errorf("neutron: create the shadow subnet: %w", err)
	}
	return nil
}

func (c *Cloud) save() error {
	st := state{
		IronicDir: c.Ironic.Dir, NetworkID: c.NetworkID, SubnetID: c.SubnetID, ShadowNetworkID: c.ShadowNetworkID,
	}
	if c.Glance != nil {
		st.GlanceURL, st.GlancePID = c.Glance.URL, c.Glance.PID
	}
	if c.Neutron != nil {
		st.NeutronURL, st.NeutronPID = c.Neutron.URL, c.Neutron.PID
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.dir, stateFile), b, 0o600)
}

// Attach returns the cloud that Start recorded in dir, for a command that
// enrolls nodes in it or stops it after the starter exited.
func Attach(dir string) (*Cloud, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, stateFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("no cloud recorded in %s (start one with `openstack-standalone start --dir %s`): %w", dir, dir, err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := &Cloud{dir: dir, NetworkID: st.NetworkID, SubnetID: st.SubnetID, ShadowNetworkID: st.ShadowNetworkID}
	if c.Ironic, err = ironic.Attach(st.IronicDir); err != nil {
		return nil, err
	}
	if st.GlanceURL != "" {
		c.Glance = glance.Attach(st.GlanceURL, st.GlancePID)
	}
	if st.NeutronURL != "" {
		c.Neutron = neutron.Attach(st.NeutronURL, st.NeutronPID)
	}
	return c, nil
}

// Stop ends every service, at once, and returns when none of their
// processes runs. Stopping twice is harmless.
func (c *Cloud) Stop() {
	var wg sync.WaitGroup
	if c.Ironic != nil {
		wg.Go(func() { _ = c.Ironic.Stop() })
	}
	if c.Glance != nil {
		wg.Go(c.Glance.Stop)
	}
	if c.Neutron != nil {
		wg.Go(c.Neutron.Stop)
	}
	wg.Wait()
	// Nothing runs any more; a record left behind would only make Attach
	// return services that are gone.
	_ = os.Remove(filepath.Join(c.dir, stateFile))
}
