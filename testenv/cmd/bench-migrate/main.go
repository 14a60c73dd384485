// Command bench-migrate measures `mogan migrate --adopt` against a script
// that makes the same Ironic and Neutron requests directly, at the same
// concurrency, side by side in one run, and prints a markdown table with
// the load average (`make bench-migrate`):
//
//	bench-migrate -bin bin [-nodes 200] [-runs 3] [-concurrency 8]
//
// It starts a standalone Ironic (fake-hardware, automated cleaning on, the
// power sync off) and Neutron (one flat network and its subnet), and
// mogan-api from -bin on SQLite with the Ironic driver and Neutron (the
// reconciler off). Each run migrates -nodes fresh machines (one NIC each,
// with a fixed IP, a secret in driver_info) twice, alternating:
//
//   - host: bin/mogan migrate -i inventory.yaml --to ironic --adopt
//     --secrets-file … --concurrency N, as an operator runs it, until the
//     last machine is migrated and adopted;
//   - raw: N at a time, for each machine, what a migration must ask:
//     Neutron creates its port (MAC, fixed IP); Ironic creates the node
//     (its uuid, name, driver_info, automated_clean false, the marker) and
//     its port (the VIF); manage, and wait until manageable; adopt, and
//     wait until active; protect; then the adoption: Neutron binds the
//     port (host_id, vnic_type baremetal) and Ironic associates the node
//     (instance_uuid, protected with the server's reason, automated_clean,
//     the interlock's record), as the driver's Manage does.
//
// The waits poll as the driver does (20 ms, doubling to 1 s). The median
// of -runs of each is reported, with their ratio (goal: at most 1.2×) and
// the CPU seconds each process spent per run. Every process it starts is
// stopped before it exits, also on Ctrl-C.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/testenv/internal/benchkit"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
	"github.com/mogan-manage/mogan-manage/testenv/ironicbench"
	"github.com/mogan-manage/mogan-manage/testenv/neutron"
)

var command = benchkit.Command{
	Name:             "bench-migrate",
	NodesUsage:       "machines migrated per run and side",
	ConcurrencyUsage: "migrations at a time (mogan migrate --concurrency), and the script's",
}

func main() { command.Main(run) }

// bench is one run's shared state.
type bench struct {
	o         benchkit.Options
	dir       string
	ironic    *ironic.Server
	neutron   *neutron.Neutron
	network   string
	host      *ironicbench.Host
	raw       *benchkit.Client
	batch     int            // machines made so far, for fresh names, MACs and IPs
	retries   benchkit.Notes // the 5xx answers the raw side retried, the host's reruns
	loadStart string
}

func run(ctx context.Context, o benchkit.Options) (err error) {
	dir, done, err := command.WorkDir(&o)
	if err != nil {
		return err
	}
	defer func() { done(err) }()
	b := &bench{o: o, dir: dir, loadStart: benchkit.LoadAverage()}
	b.raw = benchkit.NewClient(&b.retries)

	command.Logf("starting a standalone Ironic and Neutron")
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		b.ironic, err = ironic.Start(gctx, ironic.Options{Dir: filepath.Join(dir, "ironic"), DieWithParent: true, NoPowerSync: true,
			AutomatedClean: true})
		return err
	})
	g.Go(func() (err error) { b.neutron, err = neutron.Start(gctx, filepath.Join(dir, "neutron")); return err })
	err = g.Wait()
	if b.ironic != nil {
		defer func() { _ = b.ironic.Stop() }()
	}
	if b.neutron != nil {
		defer b.neutron.Stop()
	}
	if err != nil {
		return err
	}
	if b.network, err = b.neutron.CreateNetwork(ctx, "provisioning"); err != nil {
		return err
	}
	if _, err := b.neutron.CreateSubnet(ctx, b.network, "10.20.0.0/16"); err != nil {
		return err
	}
	b.host, err = ironicbench.StartHost(ctx, ironicbench.HostConfig{Bin: o.Bin, Dir: filepath.Join(dir, "mogan"), IronicURL: b.ironic.URL,
		NeutronURL: b.neutron.URL})
	if err != nil {
		return err
	}
	defer func() { _ = b.host.Stop() }()

	res, err := command.Alternate(ctx, o, benchkit.Sides{Host: b.hostSide, Raw: b.rawSide, Measure: b.measure})
	if err != nil {
		return err
	}
	return benchkit.Report{Options: o, Machines: "one NIC each", Host: "mogan migrate --adopt", Case: "migrations with adoption",
		LoadStart: b.loadStart, Retries: &b.retries}.Write(os.Stdout, res)
}

// machine is one machine of a run.
type machine struct {
	name, mac, ip string
}

// machines are n fresh machines: names, MACs and IPs no earlier run used.
func (b *bench) machines(n int) []machine {
	out := make([]machine, n)
	for i := range out {
		k := b.batch + i
		out[i] = machine{
			name: fmt.Sprintf("bench-%05d", k),
			mac:  fmt.Sprintf("52:54:%02x:%02x:%02x:%02x", 0xbe, k>>16&0xff, k>>8&0xff, k&0xff),
			ip:   fmt.Sprintf("10.20.%d.%d", 1+k/250, 2+k%250),
		}
	}
	b.batch += n
	return out
}

// secret is the machines' password (driver_info.ipmi_password).
const secret = "bench-secret"

// hostSide migrates n machines with `mogan migrate --adopt`.
func (b *bench) hostSide(ctx context.Context, n int) error {
	ms := b.machines(n)
	var inv strings.Builder
	inv.WriteString("machines:\n")
	for _, m := range ms {
		fmt.Fprintf(&inv, "  - name: %s\n    driver: fake-hardware\n    driver_info: {ipmi_address: 192.0.2.10, ipmi_username: admin}\n"+
			"    secrets: [ipmi_password]\n    resource_class: baremetal\n    ports:\n      - {mac: %q, network: provisioning, fixed_ips: [%s]}\n",
			m.name, m.mac, m.ip)
	}
	dir, err := os.MkdirTemp(b.dir, "run-")
	if err != nil {
		return err
	}
	invPath, secretsPath := filepath.Join(dir, "inventory.yaml"), filepath.Join(dir, "secrets.yaml")
	if err := os.WriteFile(invPath, []byte(inv.String()), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(secretsPath, []byte("\"*\":\n  ipmi_password: "+secret+"\n"), 0o600); err != nil {
		return err
	}
	return benchkit.MigrateWithReruns(ctx, filepath.Join(b.o.Bin, "mogan"), b.host.URL, []string{"migrate", "-i", invPath, "--to", "ironic",
		"--adopt", "--secrets-file", secretsPath, "--concurrency", strconv.Itoa(b.o.Concurrency), "-f", "json"}, &b.retries)
}

// rawSide migrates n machines with the requests alone, o.Concurrency at
// a time.
func (b *bench) rawSide(ctx context.Context, n int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.o.Concurrency)
	for _, m := range b.machines(n) {
		g.Go(func() error { return b.rawMigrate(gctx, m) })
	}
	return g.Wait()
}

// rawMigrate makes, for one machine, the requests a migration with an
// adoption must make.
func (b *bench) rawMigrate(ctx context.Context, m machine) error {
	migration, node, server := uuid.NewString(), uuid.NewString(), uuid.NewString()
	marker := map[string]any{"mogan_migration_id": migration}
	var port struct {
		Port struct {
			ID string `json:"id"`
		} `json:"port"`
	}
	if err := b.raw.Call(ctx, b.neutron.URL+"/v2.0/ports", http.MethodPost, map[string]any{"port": map[string]any{
		"network_id": b.network, "mac_address": m.mac, "fixed_ips": []map[string]string{{"ip_address": m.ip}},
		"name": "mogan-migration-" + migration,
	}}, &port, http.StatusCreated); err != nil {
		return err
	}
	ironicURL := b.ironic.URL + "/v1"
	if err := b.raw.Call(ctx, ironicURL+"/nodes", http.MethodPost, map[string]any{
		"uuid": node, "name": m.name, "driver": "fake-hardware", "resource_class": "baremetal", "automated_clean": false,
		"driver_info": map[string]any{"ipmi_address": "192.0.2.10", "ipmi_username": "admin", "ipmi_password": secret},
		"extra":       marker,
	}, nil, http.StatusCreated); err != nil {
		return err
	}
	if err := b.raw.Call(ctx, ironicURL+"/ports", http.MethodPost, map[string]any{
		"node_uuid": node, "address": m.mac, "extra": map[string]any{"mogan_migration_id": migration, "vif_port_id": port.Port.ID},
	}, nil, http.StatusCreated); err != nil {
		return err
	}
	if err := b.raw.ManageAdoptProtect(ctx, ironicURL, node, migration); err != nil {
		return err
	}
	// The adoption: bind the port, associate the node with the interlock.
	if err := b.raw.BindPort(ctx, b.neutron.URL, port.Port.ID, node); err != nil {
		return err
	}
	return b.raw.Associate(ctx, ironicURL, node, server, migration)
}

// neutronLog is the path of Neutron's log (testenv/neutron writes it in
// its directory).
func (b *bench) neutronLog() string { return filepath.Join(b.dir, "neutron", "neutron.log") }

// requests counts the requests a service's log holds from offset on, with
// whatever follows a collection (a node's uuid or name, a port's id)
// folded.
func requests(logPath string, offset int64) string {
	return benchkit.CountRequests(logPath, offset, func(path string) string {
		parts := strings.Split(path, "/")
		for i := 1; i < len(parts); i++ {
			switch parts[i-1] {
			case "nodes", "ports", "portgroups", "networks":
				parts[i] = "{id}"
			}
		}
		return strings.Join(parts, "/")
	})
}

// measure reads the processes' CPU seconds and where the services' logs
// stand before a run; what it returns says what the run cost.
func (b *bench) measure() func() string {
	before, ironicAt, neutronAt := b.cpu(), benchkit.FileSize(b.ironic.Log), benchkit.FileSize(b.neutronLog())
	return func() string {
		return fmt.Sprintf("CPU s: %s; Ironic requests: %s; Neutron requests: %s", b.cpu().since(before), requests(b.ironic.Log, ironicAt),
			requests(b.neutronLog(), neutronAt))
	}
}

// cpuTimes are the CPU seconds of the processes a run uses.
type cpuTimes struct{ host, plugin, ironic, neutron float64 }

func (b *bench) cpu() cpuTimes {
	return cpuTimes{host: benchkit.ProcessCPU(b.host.PID), plugin: benchkit.ProcessCPU(b.host.PluginPID),
		ironic: benchkit.GroupCPU(b.ironic.PID), neutron: benchkit.ProcessesCPU(b.neutron.Processes())}
}

func (c cpuTimes) since(before cpuTimes) string {
	return fmt.Sprintf("host %.1f, plugin %.1f, Ironic %.1f, Neutron %.1f", c.host-before.host, c.plugin-before.plugin,
		c.ironic-before.ironic, c.neutron-before.neutron)
}
