// Command bench-handoff measures `mogan migrate --from a --to b --adopt`,
// the handoff of running machines from one Ironic to another, against a
// program that makes the same requests to both Ironics and Neutron
// directly, at the same concurrency, side by side in one run, and prints
// a markdown table with the load average (`make bench-handoff`):
//
//	bench-handoff -bin bin [-nodes 200] [-runs 3] [-concurrency 8]
//
// It starts two standalone Ironics, A (the source) and B (the target),
// both fake-hardware with automated cleaning on and the power sync off,
// B's fake BMCs reading "power on" as a running machine's do, and B's
// Neutron with one flat network and its subnet; then mogan-api from -bin on
// SQLite with both Ironics as its backends a and b and the Neutron (the
// reconciler off, Glance not configured: images are taken as they are).
// A holds every machine of every run from the start, bulk-loaded (active,
// powered on; two ports and a portgroup each): Ironic gives a deleted
// node's row id, which the loader's MACs follow, to the next one. Each run
// hands -nodes machines over twice, alternating:
//
//   - host: bin/mogan migrate --from a --to b --adopt --network-map
//     '*=target-net' --concurrency N NODE…, as an operator runs it, until
//     the last machine is adopted in B and gone from A;
//   - raw: N at a time, for each machine, what a handoff must ask: A's
//     node, ports and portgroups (at once); the hold (A's maintenance,
//     with the migration's reason); B's Neutron ports, one per NIC, on the
//     network; B's node (its uuid, name, driver, driver_info,
//     resource_class, properties, image, automated_clean false, the
//     marker), its portgroup and its ports (each with its VIF); manage,
//     and wait until manageable; adopt, and wait until active; protect;
//     the release (A deletes the node); then the adoption: Neutron binds
//     each port to the node and B associates it (instance_uuid, protected
//     with the server's reason, automated_clean, the interlock's record),
//     as the driver's Manage does.
//
// The waits poll as the driver does (20 ms, doubling to 1 s). The median
// of -runs of each is reported with their ratio (goal: at most 1.2×), the
// CPU seconds each process spent and the requests each service logged per
// run. Every process it starts is stopped before it exits, also on Ctrl-C.
package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/testenv/internal/benchkit"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
	"github.com/mogan-manage/mogan-manage/testenv/neutron"
)

var command = benchkit.Command{
	Name:             "bench-handoff",
	NodesUsage:       "machines handed over per run and side",
	ConcurrencyUsage: "handoffs at a time (mogan migrate --concurrency), and the program's",
}

func main() { command.Main(run) }

// network is the name of B's network, where every port goes.
const network = "target-net"

// bench is one run's shared state.
type bench struct {
	o         benchkit.Options
	dir       string
	a, b      *ironic.Server
	neutron   *neutron.Neutron
	networkID string
	host      *host
	raw       *benchkit.Client
	pool      []ironic.Node  // A's machines not handed over yet
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

	command.Logf("starting two standalone Ironics and Neutron")
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		b.a, err = ironic.Start(gctx, ironic.Options{Dir: filepath.Join(dir, "a"), DieWithParent: true, NoPowerSync: true, AutomatedClean: true})
		return err
	})
	g.Go(func() (err error) {
		b.b, err = ironic.Start(gctx, ironic.Options{Dir: filepath.Join(dir, "b"), DieWithParent: true, NoPowerSync: true, AutomatedClean: true,
			PowerOnAtCreate: true})
		return err
	})
	g.Go(func() (err error) { b.neutron, err = neutron.Start(gctx, filepath.Join(dir, "neutron")); return err })
	err = g.Wait()
	for _, s := range []*ironic.Server{b.a, b.b} {
		if s != nil {
			defer func() { _ = s.Stop() }()
		}
	}
	if b.neutron != nil {
		defer b.neutron.Stop()
	}
	if err != nil {
		return err
	}
	if b.networkID, err = b.neutron.CreateNetwork(ctx, network); err != nil {
		return err
	}
	if _, err := b.neutron.CreateSubnet(ctx, b.networkID, "10.20.0.0/16"); err != nil {
		return err
	}
	total := 2 * (o.Concurrency + o.Runs*o.Nodes)
	start := time.Now()
	if b.pool, err = b.a.Fixture().BulkLoad(ctx, total, ironic.BulkOptions{Portgroup: true}); err != nil {
		return err
	}
	command.Logf("bulk-loaded %d machines into A in %s", total, time.Since(start).Round(time.Millisecond))
	b.host, err = startHost(ctx, o.Bin, filepath.Join(dir, "mogan"), b.a.URL, b.b.URL, b.neutron.URL)
	if err != nil {
		return err
	}
	defer func() { _ = b.host.stop() }()

	res, err := command.Alternate(ctx, o, benchkit.Sides{Host: b.hostSide, Raw: b.rawSide, Measure: b.measure})
	if err != nil {
		return err
	}
	return benchkit.Report{Options: o, Machines: "two NICs and a bond each", Host: "mogan migrate --from a --adopt",
		Case: "handoffs from A to B with adoption", LoadStart: b.loadStart, Retries: &b.retries}.Write(os.Stdout, res)
}

// take is the next n machines of A.
func (b *bench) take(n int) []ironic.Node {
	out := b.pool[:n]
	b.pool = b.pool[n:]
	return out
}

// hostSide hands n machines over with `mogan migrate --from a --adopt`.
func (b *bench) hostSide(ctx context.Context, n int) error {
	var ids []string
	for _, m := range b.take(n) {
		ids = append(ids, m.UUID)
	}
	return benchkit.MigrateWithReruns(ctx, filepath.Join(b.o.Bin, "mogan"), b.host.url, append([]string{"migrate", "--from", "a", "--to", "b",
		"--adopt", "--network-map", "*=" + network, "--concurrency", strconv.Itoa(b.o.Concurrency), "-f", "json"}, ids...), &b.retries)
}

// rawSide hands n machines over with the requests alone, o.Concurrency at
// a time.
func (b *bench) rawSide(ctx context.Context, n int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.o.Concurrency)
	for _, m := range b.take(n) {
		g.Go(func() error { return b.rawHandoff(gctx, m.UUID) })
	}
	return g.Wait()
}
