// Command bench-ironic measures mogan-api with the Ironic driver against
// the best raw fetch of the same data from a real standalone Ironic, side
// by side in one run, and prints a markdown table (`make bench-ironic`):
//
//	bench-ironic -bin bin -nodes 10000 [-runs 3] [-adoptions 100] [-concurrency 20]
//	             [-postgres postgres://postgres@127.0.0.1:5432/test?sslmode=disable] [-glance-neutron=false]
//	             [-two-backends 5000] [-two-backends-limit 1500] [-one-backend=false]
//
// It starts a standalone Ironic (max_limit 1000), bulk-loads N adoptable
// nodes into its database (testenv/ironic BulkLoad: one node enrolled
// through the API, the rest copies of its rows; 2 ports and a portgroup
// each), runs mogan-api from -bin (SQLite, Glance and Neutron not
// configured, the Ironic driver, the reconciler off so that it does not
// list in the background) and measures, alternating host and raw, the
// median of -runs:
//
//   - one full listing, GET /v1/manageable_servers, vs RawFetch (nodes,
//     ports and portgroups concurrently, fields=, pages of 1000);
//   - the same nodes paged with limit=1000 following
//     manageable_servers_links, vs RawFetch;
//   - the peak RSS (VmHWM) of the host and of the plugin;
//   - -adoptions adoptions of distinct nodes, -concurrency at a time, vs the
//     same Ironic reads (node, its ports, its portgroups, concurrently) and
//     PATCH of instance_uuid sent straight to Ironic at that concurrency —
//     on SQLite and (unless -postgres is empty) on a PostgreSQL database it
//     creates and drops;
//   - with -glance-neutron (the default), one full listing through a
//     mogan-api with [glance] and [neutron] configured (standalone Glance
//     and Neutron), vs RawFetchEnriched: the raw fetch plus the same
//     batched image and VIF lookups.
//
// Then, unless -two-backends is 0, the case of two backends (issue 16):
// the first Ironic stopped, two standalone Ironics each bulk-loaded with
// -two-backends nodes, one mogan-api with both as backends east and west
// ([DEFAULT] enabled_backends, the same mogan-driver-ironic binary, one
// plugin process each), and, alternating host and raw, the median of
// -runs of:
//
//   - one full listing of both, GET /v1/manageable_servers read whole
//     (east's nodes then west's, each item's "backend" checked), vs the
//     two raw fetches made one after the other (RawFetch of east, then
//     of west);
//   - the same listing paged with -two-backends-limit, a page holding
//     east's last nodes and west's first, vs the same two raw fetches;
//   - the peak RSS of the host and of both plugins.
//
// It prints the first page of ?limit=3 of that listing as it came.
// -one-backend=false runs only the two-backend case.
//
// It also reports the CPU seconds each process (host, plugin, Ironic)
// spent per case, which says where a ratio comes from. Every process it
// starts is stopped before it exits, also on Ctrl-C.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // creating and dropping the PostgreSQL database
	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/ironicdriver"
	"github.com/mogan-manage/mogan-manage/testenv/glance"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
	"github.com/mogan-manage/mogan-manage/testenv/ironicbench"
	"github.com/mogan-manage/mogan-manage/testenv/neutron"
)

// pageSize is Ironic's max_limit here and the page every client asks for.
const pageSize = 1000

type options struct {
	bin         string
	nodes       int
	runs        int
	adoptions   int
	concurrency int
	postgres    string
	keep        bool
	powerSync   bool
	idle        time.Duration
	enrich      bool
	oneBackend  bool
	twoBackends int
	twoLimit    int
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin", "directory holding mogan-api and mogan-driver-ironic (make build)")
	flag.IntVar(&o.nodes, "nodes", envInt("NODES", 1000), "adoptable nodes to bulk-load (env NODES)")
	flag.IntVar(&o.runs, "runs", envInt("RUNS", 3), "runs of each case; the median is reported (env RUNS)")
	flag.IntVar(&o.adoptions, "adoptions", envInt("ADOPTIONS", 100), "adoptions per run (env ADOPTIONS)")
	flag.IntVar(&o.concurrency, "concurrency", envInt("CONCURRENCY", 20), "adoptions at a time (env CONCURRENCY)")
	flag.StringVar(&o.postgres, "postgres", envString("POSTGRES", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
		"PostgreSQL server to create the adoption case's database on; empty skips PostgreSQL (env POSTGRES)")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory (logs, databases)")
	flag.BoolVar(&o.powerSync, "power-sync", false, "leave Ironic's periodic power-state sync on (off by default: with thousands of nodes it keeps Ironic busy)")
	flag.BoolVar(&o.enrich, "glance-neutron", envString("GLANCE_NEUTRON", "1") != "", "also measure a full listing with Glance and Neutron configured, against RawFetchEnriched (env GLANCE_NEUTRON; empty skips it)")
	flag.BoolVar(&o.oneBackend, "one-backend", true, "run the one-backend cases (false: only the two-backend case)")
	flag.IntVar(&o.twoBackends, "two-backends", envInt("TWO_BACKENDS", 5000),
		"nodes of each of the two Ironics of the two-backend case; 0 skips it (env TWO_BACKENDS)")
	flag.IntVar(&o.twoLimit, "two-backends-limit", envInt("TWO_BACKENDS_LIMIT", 1500),
		"limit of the two-backend paged listing: one that does not divide -two-backends, so that a page crosses from east to west (env TWO_BACKENDS_LIMIT)")
	flag.DurationVar(&o.idle, "idle", 10*time.Second, "how long to measure Ironic's CPU while nothing asks it anything, before the cases")
	flag.Parse()
	if o.nodes < 1 || o.runs < 1 || o.adoptions < 1 || o.concurrency < 1 || o.twoLimit < 1 {
		fmt.Fprintln(os.Stderr, "bench-ironic: -nodes, -runs, -adoptions, -concurrency and -two-backends-limit must be positive")
		os.Exit(2)
	}
	if o.twoBackends < 0 || (!o.oneBackend && o.twoBackends == 0) {
		fmt.Fprintln(os.Stderr, "bench-ironic: -two-backends must not be negative, and positive with -one-backend=false")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-ironic:", err)
		os.Exit(1)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envString(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench-ironic: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// bench is one run's shared state.
type bench struct {
	o      options
	dir    string
	ironic *ironic.Server
	hc     *http.Client
	// pool is the nodes not adopted yet, for the adoption cases.
	pool []string
	// tables are the tables to print (one backend, two backends).
	tables []table
	raw    []string // the raw numbers, one line each
}

// table is a titled table of rows.
type table struct {
	title string
	rows  []row
}

// addRow adds r to the table being filled (the last one).
func (b *bench) addRow(r row) {
	b.tables[len(b.tables)-1].rows = append(b.tables[len(b.tables)-1].rows, r)
}

// meter is what a case's runs measure besides the wall time: the CPU
// seconds of each process and the requests of each Ironic.
type meter struct {
	procs   []metered
	ironics []*ironic.Server
	// ironicNames label ironics' requests ("" for one: "Ironic
	// requests").
	ironicNames []string
}

// metered is one process (or, with group, a process group) whose CPU
// seconds a run reports under label.
type metered struct {
	label string
	pid   int
	group bool
}

// oneBackend is the meter of the one-backend cases: host, plugin, Ironic.
func (b *bench) oneBackend(h *ironicbench.Host) meter {
	return meter{
		procs:       []metered{{"host", h.PID, false}, {"plugin", h.PluginPID, false}, {"Ironic", b.ironic.PID, true}},
		ironics:     []*ironic.Server{b.ironic},
		ironicNames: []string{""},
	}
}

func (m meter) cpu() []float64 {
	out := make([]float64, len(m.procs))
	for i, p := range m.procs {
		if p.group {
			out[i] = groupCPU(p.pid)
		} else {
			out[i] = procCPU(p.pid)
		}
	}
	return out
}

func (m meter) logSizes() []int64 {
	out := make([]int64, len(m.ironics))
	for i, s := range m.ironics {
		out[i] = fileSize(s.Log)
	}
	return out
}

// line is a run's CPU seconds and Ironic requests since before and at.
func (m meter) line(before []float64, at []int64) string {
	after := m.cpu()
	var cpu []string
	for i, p := range m.procs {
		cpu = append(cpu, fmt.Sprintf("%s %.2f", p.label, after[i]-before[i]))
	}
	var reqs []string
	for i, s := range m.ironics {
		label := "Ironic requests"
		if m.ironicNames[i] != "" {
			label = "Ironic " + m.ironicNames[i] + " requests"
		}
		reqs = append(reqs, label+": "+ironicRequests(s.Log, at[i]))
	}
	return "CPU s: " + strings.Join(cpu, ", ") + "; " + strings.Join(reqs, "; ")
}

// row is a line of the table.
type row struct {
	name, host, raw, ratio, goal string
	met                          bool
}

func run(ctx context.Context, o options) (err error) {
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	o.bin = bin
	for _, exe := range []string{"mogan-api", "mogan-driver-ironic"} {
		if _, err := os.Stat(filepath.Join(bin, exe)); err != nil {
			return fmt.Errorf("%s: %w (run make build, or pass -bin)", exe, err)
		}
	}
	dir, err := os.MkdirTemp("", "bench-ironic-")
	if err != nil {
		return err
	}
	if o.keep {
		logf("working directory %s (kept)", dir)
	} else {
		defer func() { _ = os.RemoveAll(dir) }()
	}
	b := &bench{o: o, dir: dir, hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}

	if o.oneBackend {
		err = b.oneBackendCases(ctx)
	}
	if err == nil && o.twoBackends > 0 {
		err = b.twoBackendCases(ctx)
	}
	// What was measured, also when a later case failed.
	if printErr := b.print(os.Stdout); err == nil {
		err = printErr
	}
	return err
}

// oneBackendCases are the cases of one Ironic and a host with it as its
// one backend (what `make bench-ironic` measured before issue 16).
func (b *bench) oneBackendCases(ctx context.Context) (err error) {
	o := b.o
	b.tables = append(b.tables, table{title: fmt.Sprintf("%d nodes, %d ports, %d portgroups; median of %d runs, host and raw alternating",
		o.nodes, 2*o.nodes, o.nodes, o.runs)})
	logf("starting a standalone Ironic (max_limit %d)", pageSize)
	b.ironic, err = ironic.Start(ctx, ironic.Options{
		Dir: filepath.Join(b.dir, "ironic"), MaxLimit: pageSize, DieWithParent: true, NoPowerSync: !o.powerSync,
	})
	if err != nil {
		return err
	}
	defer func() { _ = b.ironic.Stop() }()
	start := time.Now()
	nodes, err := b.ironic.Fixture().BulkLoad(ctx, o.nodes, ironic.BulkOptions{Portgroup: true})
	if err != nil {
		return err
	}
	logf("bulk-loaded %d nodes (%d ports, %d portgroups) in %s", len(nodes), 2*len(nodes), len(nodes), time.Since(start).Round(time.Millisecond))
	for _, n := range nodes {
		b.pool = append(b.pool, n.UUID)
	}
	if err := b.idleIronics(ctx, []string{""}, []*ironic.Server{b.ironic}); err != nil {
		return err
	}

	h, err := b.startHost(ctx, "sqlite", "")
	if err != nil {
		return err
	}
	listErr := b.listingCases(ctx, h)
	if listErr == nil && o.enrich {
		// Before the adoptions, which take nodes out of the listing.
		listErr = b.enrichedCase(ctx)
	}
	if listErr == nil {
		listErr = b.adoptionCase(ctx, h, "SQLite")
	}
	if stopErr := h.Stop(); listErr == nil {
		listErr = stopErr
	}
	if listErr != nil {
		return listErr
	}
	if o.postgres != "" {
		if err := b.postgresCase(ctx); err != nil {
			return err
		}
	}
	return nil
}

// idleIronics measures the CPU the Ironics use while nothing asks them
// anything, for o.idle.
func (b *bench) idleIronics(ctx context.Context, names []string, servers []*ironic.Server) error {
	if b.o.idle <= 0 {
		return nil
	}
	before := make([]float64, len(servers))
	for i, s := range servers {
		before[i] = groupCPU(s.PID)
	}
	select {
	case <-time.After(b.o.idle):
	case <-ctx.Done():
		return ctx.Err()
	}
	for i, s := range servers {
		who := "Ironic"
		if names[i] != "" {
			who += " " + names[i]
		}
		line := fmt.Sprintf("%s idle (power sync %v): %.2f CPU s in %s", who, b.o.powerSync, groupCPU(s.PID)-before[i], b.o.idle)
		logf("%s", line)
		b.raw = append(b.raw, line)
	}
	return nil
}

// listingCases measures the full and the paged listing and the RSS.
func (b *bench) listingCases(ctx context.Context, h *ironicbench.Host) error {
	n := b.o.nodes
	raw := func(ctx context.Context) error {
		counts, err := ironicbench.RawFetch(ctx, b.hc, b.ironic.URL, pageSize)
		if err == nil && counts["nodes"] != n {
			err = fmt.Errorf("raw fetch read %d nodes, want %d", counts["nodes"], n)
		}
		return err
	}
	full := func(ctx context.Context) error {
		got, _, err := h.List(ctx, b.hc, h.URL+"/v1/manageable_servers")
		if err == nil && got != n {
			err = fmt.Errorf("the host listed %d nodes, want %d", got, n)
		}
		return err
	}
	paged := func(ctx context.Context) error {
		next, got, pages := h.URL+"/v1/manageable_servers?limit="+strconv.Itoa(pageSize), 0, 0
		for next != "" {
			c, link, err := h.List(ctx, b.hc, next)
			if err != nil {
				return err
			}
			got, pages, next = got+c, pages+1, link
		}
		if got != n {
			return fmt.Errorf("the host's pages held %d nodes, want %d", got, n)
		}
		return nil
	}
	logf("warming up (one full listing and one raw fetch, not counted)")
	if err := full(ctx); err != nil {
		return err
	}
	if err := raw(ctx); err != nil {
		return err
	}
	if err := b.sideBySide(ctx, b.oneBackend(h), fmt.Sprintf("one full listing, %d nodes", n), 1.05, full, raw); err != nil {
		return err
	}
	if err := b.sideBySide(ctx, b.oneBackend(h), fmt.Sprintf("the same %d nodes paged, limit=%d", n, pageSize), 1.3, paged, raw); err != nil {
		return err
	}
	hostRSS, pluginRSS := vmHWM(h.PID), vmHWM(h.PluginPID)
	const goal = 100 << 20
	b.addRow(row{
		name: fmt.Sprintf("peak RSS while listing %d nodes (VmHWM)", n),
		host: fmt.Sprintf("host %s, plugin %s", mib(hostRSS), mib(pluginRSS)),
		raw:  "–", ratio: "–", goal: "≤ 100 MiB each",
		met: hostRSS > 0 && pluginRSS > 0 && hostRSS <= goal && pluginRSS <= goal,
	})
	b.raw = append(b.raw, fmt.Sprintf("peak RSS: host %d kB, plugin %d kB", hostRSS>>10, pluginRSS>>10))
	return nil
}

// sideBySide runs host and raw alternately o.runs times and records the
// medians, with the CPU seconds of each process per run.
func (b *bench) sideBySide(ctx context.Context, m meter, name string, goal float64, hostCase, rawCase func(context.Context) error) error {
	var ht, rt []time.Duration
	for i := range b.o.runs {
		for _, side := range []struct {
			label string
			f     func(context.Context) error
			out   *[]time.Duration
		}{{"host", hostCase, &ht}, {"raw", rawCase, &rt}} {
			before, logAt := m.cpu(), m.logSizes()
			start := time.Now()
			if err := side.f(ctx); err != nil {
				return fmt.Errorf("%s, %s: %w", name, side.label, err)
			}
			d := time.Since(start)
			*side.out = append(*side.out, d)
			// Ironic logs a request just after answering it.
			time.Sleep(300 * time.Millisecond)
			line := fmt.Sprintf("%s, run %d, %s: %.2f s wall; %s", name, i+1, side.label, d.Seconds(), m.line(before, logAt))
			logf("%s", line)
			b.raw = append(b.raw, line)
		}
	}
	hm, rm := median(ht), median(rt)
	ratio := hm.Seconds() / rm.Seconds()
	b.addRow(row{
		name: name, host: secs(hm), raw: secs(rm), ratio: fmt.Sprintf("%.2f×", ratio),
		goal: fmt.Sprintf("≤ %.2f×", goal), met: ratio <= goal,
	})
	return nil
}

// adoptionCase adopts o.adoptions distinct nodes through the host and
// as many straight through Ironic, o.concurrency at a time.
func (b *bench) adoptionCase(ctx context.Context, h *ironicbench.Host, engine string) error {
	need := 2 * b.o.runs * b.o.adoptions
	if len(b.pool) < need {
		more, err := b.ironic.Fixture().BulkLoad(ctx, need-len(b.pool), ironic.BulkOptions{Portgroup: true})
		if err != nil {
			return err
		}
		for _, n := range more {
			b.pool = append(b.pool, n.UUID)
		}
	}
	take := func() []string {
		out := b.pool[:b.o.adoptions]
		b.pool = b.pool[b.o.adoptions:]
		return out
	}
	hostCase := func(ctx context.Context) error {
		return b.each(ctx, take(), func(ctx context.Context, i int, node string) error {
			body := fmt.Sprintf(`{"name": "bench-%d", "node_uuid": %q}`, i, node)
			status, text, err := request(ctx, b.hc, "POST", h.URL+"/v1/manageable_servers", body, nil)
			if err == nil && status != http.StatusCreated {
				err = fmt.Errorf("adopting %s: %d %s", node, status, text)
			}
			return err
		})
	}
	rawCase := func(ctx context.Context) error {
		return b.each(ctx, take(), b.rawAdopt)
	}
	return b.sideBySide(ctx, b.oneBackend(h), fmt.Sprintf("%d adoptions, %d at a time (%s)", b.o.adoptions, b.o.concurrency, engine), 1.15, hostCase, rawCase)
}

// rawAdopt is what an adoption must ask Ironic: the node, its ports and
// its portgroups (concurrently), then the PATCH of instance_uuid.
func (b *bench) rawAdopt(ctx context.Context, _ int, node string) error {
	hdr := http.Header{"X-OpenStack-Ironic-API-Version": {ironicdriver.DefaultAPIVersion}}
	g, gctx := errgroup.WithContext(ctx)
	for _, path := range []string{
		"/v1/nodes/" + node + "?fields=" + strings.Join(fieldsOf("nodes"), ","),
		"/v1/ports?node=" + node + "&fields=" + strings.Join(fieldsOf("ports"), ",") + "&limit=" + strconv.Itoa(pageSize),
		"/v1/portgroups?node=" + node + "&fields=" + strings.Join(fieldsOf("portgroups"), ",") + "&limit=" + strconv.Itoa(pageSize),
	} {
		g.Go(func() error {
			status, text, err := request(gctx, b.hc, "GET", b.ironic.URL+path, "", hdr)
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("GET %s: %d %s", path, status, text)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	patch := fmt.Sprintf(`[{"op": "add", "path": "/instance_uuid", "value": %q}]`, uuid.NewString())
	status, text, err := request(ctx, b.hc, "PATCH", b.ironic.URL+"/v1/nodes/"+node, patch, hdr)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("PATCH node %s: %d %s", node, status, text)
	}
	return err
}

// fieldsOf are the fields= of RawQueries[resource].
func fieldsOf(resource string) []string {
	_, f, _ := strings.Cut(ironicbench.RawQueries[resource], "fields=")
	return strings.Split(f, ",")
}

// each runs f over nodes, o.concurrency at a time.
func (b *bench) each(ctx context.Context, nodes []string, f func(ctx context.Context, i int, node string) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(b.o.concurrency)
	for i, n := range nodes {
		g.Go(func() error { return f(ctx, i, n) })
	}
	return g.Wait()
}

// enrichedCase starts Glance and Neutron and a mogan-api configured with
// them, and measures one full listing against RawFetchEnriched: the same
// Ironic reads plus the same batched image and VIF lookups. The nodes'
// images and VIFs exist in neither (the bulk loader makes them up), so
// every lookup finds nothing, on both sides alike.
func (b *bench) enrichedCase(ctx context.Context) error {
	logf("starting Glance and Neutron")
	var (
		gl *glance.Glance
		nt *neutron.Neutron
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { gl, err = glance.Start(gctx, filepath.Join(b.dir, "glance")); return err })
	g.Go(func() (err error) { nt, err = neutron.Start(gctx, filepath.Join(b.dir, "neutron")); return err })
	err := g.Wait()
	if gl != nil {
		defer gl.Stop()
	}
	if nt != nil {
		defer nt.Stop()
	}
	if err != nil {
		return err
	}
	h, err := ironicbench.StartHost(ctx, ironicbench.HostConfig{
		Bin: b.o.bin, Dir: filepath.Join(b.dir, "mogan-enriched"), IronicURL: b.ironic.URL, GlanceURL: gl.URL, NeutronURL: nt.URL,
	})
	if err != nil {
		return err
	}
	n := b.o.nodes
	lookups := ironicbench.Lookups{GlanceURL: gl.URL, NeutronURL: nt.URL}
	raw := func(ctx context.Context) error {
		counts, err := ironicbench.RawFetchEnriched(ctx, b.hc, b.ironic.URL, pageSize, lookups)
		if err == nil && counts["nodes"] != n {
			err = fmt.Errorf("raw fetch read %d nodes, want %d", counts["nodes"], n)
		}
		if err == nil {
			b.raw = append(b.raw, fmt.Sprintf("raw fetch with lookups: %d Glance and %d Neutron requests", counts["glance"], counts["neutron"]))
		}
		return err
	}
	full := func(ctx context.Context) error {
		got, _, err := h.List(ctx, b.hc, h.URL+"/v1/manageable_servers")
		if err == nil && got != n {
			err = fmt.Errorf("the host listed %d nodes, want %d", got, n)
		}
		return err
	}
	logf("warming up with Glance and Neutron (one full listing and one raw fetch, not counted)")
	err = full(ctx)
	if err == nil {
		err = raw(ctx)
	}
	if err == nil {
		err = b.sideBySide(ctx, b.oneBackend(h), fmt.Sprintf("one full listing with Glance and Neutron configured, %d nodes", n), 1.15, full, raw)
	}
	if err == nil {
		hostRSS, pluginRSS := vmHWM(h.PID), vmHWM(h.PluginPID)
		b.raw = append(b.raw, fmt.Sprintf("peak RSS with Glance and Neutron: host %d kB, plugin %d kB", hostRSS>>10, pluginRSS>>10))
	}
	if stopErr := h.Stop(); err == nil {
		err = stopErr
	}
	return err
}

// postgresCase runs the adoption case on a fresh PostgreSQL database.
func (b *bench) postgresCase(ctx context.Context) (err error) {
	admin, err := sql.Open("pgx", b.o.postgres)
	if err != nil {
		return err
	}
	defer func() { _ = admin.Close() }()
	name := fmt.Sprintf("mogan_bench_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("PostgreSQL at %s (set -postgres, or -postgres '' to skip it): %w", b.o.postgres, err)
	}
	defer func() {
		if _, derr := admin.ExecContext(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); derr != nil && err == nil {
			err = derr
		}
	}()
	conn, err := databaseURL(b.o.postgres, name)
	if err != nil {
		return err
	}
	h, err := b.startHost(ctx, "postgresql", conn)
	if err != nil {
		return err
	}
	err = b.adoptionCase(ctx, h, "PostgreSQL")
	if stopErr := h.Stop(); err == nil {
		err = stopErr
	}
	return err
}

// databaseURL is admin with its database replaced by name.
func databaseURL(admin, name string) (string, error) {
	u, err := url.Parse(admin)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("-postgres %q is not a postgres:// URL", admin)
	}
	u.Scheme, u.Path = "postgresql", "/"+name
	return u.String(), nil
}

// startHost starts mogan-api for engine ("sqlite", or "postgresql" at
// conn), with Glance and Neutron when glanceNeutron.
func (b *bench) startHost(ctx context.Context, engine, conn string) (*ironicbench.Host, error) {
	cfg := ironicbench.HostConfig{Bin: b.o.bin, Dir: filepath.Join(b.dir, "mogan-"+engine), IronicURL: b.ironic.URL}
	if engine != "sqlite" {
		cfg.Database = conn
	}
	return ironicbench.StartHost(ctx, cfg)
}

// request sends one request with a JSON body (unless empty) and returns
// the status and the body.
func request(ctx context.Context, hc *http.Client, method, target, body string, hdr http.Header) (int, string, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, r)
	if err != nil {
		return 0, "", err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	var buf bytes.Buffer
	_, err = io.Copy(&buf, resp.Body)
	return resp.StatusCode, buf.String(), err
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// ironicRequests summarizes the requests Ironic logged after offset:
// how many of each method and path (uuids folded), and the sum of the
// service times Ironic reports for them.
func ironicRequests(logPath string, offset int64) string {
	f, err := os.Open(logPath)
	if err != nil {
		return "?"
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "?"
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return "?"
	}
	counts := map[string]int{}
	total, service := 0, 0.0
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.Contains(line, "eventlet.wsgi.server") {
			continue
		}
		_, req, ok := strings.Cut(line, `"`)
		if !ok {
			continue
		}
		req, _, _ = strings.Cut(req, " HTTP/")
		req, _, _ = strings.Cut(req, "?")
		var parts []string
		for _, p := range strings.Split(req, "/") {
			if uuid.Validate(p) == nil {
				p = "{uuid}"
			}
			parts = append(parts, p)
		}
		counts[strings.Join(parts, "/")]++
		total++
		if _, t, ok := strings.Cut(line, "time: "); ok {
			num := strings.TrimRightFunc(t, func(r rune) bool { return r != '.' && (r < '0' || r > '9') })
			num, _, _ = strings.Cut(num, "\x1b") // the log's color reset
			v, _ := strconv.ParseFloat(num, 64)
			service += v
		}
	}
	keys := slices.Sorted(maps.Keys(counts))
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s ×%d", k, counts[k]))
	}
	return fmt.Sprintf("%d (%s), %.2f s of Ironic service time summed", total, strings.Join(out, ", "), service)
}

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100

// procStat returns the fields of /proc/pid/stat after the command name.
func procStat(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(data[i+1:]))
}

// procCPU is utime+stime of pid in seconds (fields 14 and 15; 12 and 13
// after the name).
func procCPU(pid int) float64 {
	f := procStat(pid)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / clockTicks
}

// groupCPU is the CPU seconds of every process in process group pgid.
func groupCPU(pgid int) float64 {
	entries, _ := os.ReadDir("/proc")
	total := 0.0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := procStat(pid); len(f) > 2 && f[2] == strconv.Itoa(pgid) {
			total += procCPU(pid)
		}
	}
	return total
}

// vmHWM is the peak resident set size of pid in bytes.
func vmHWM(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// print writes the tables and the raw numbers.
func (b *bench) print(w io.Writer) error {
	var out strings.Builder
	for _, t := range b.tables {
		fmt.Fprintf(&out, "\n%s\n\n", t.title)
		out.WriteString("| case | host | raw | ratio | goal |\n| --- | --- | --- | --- | --- |\n")
		for _, r := range t.rows {
			verdict := "met"
			if !r.met {
				verdict = "**missed**"
			}
			fmt.Fprintf(&out, "| %s | %s | %s | %s | %s (%s) |\n", r.name, r.host, r.raw, r.ratio, r.goal, verdict)
		}
	}
	out.WriteString("\nraw numbers:\n")
	for _, l := range b.raw {
		out.WriteString("  " + l + "\n")
	}
	_, err := io.WriteString(w, out.String())
	return err
}
