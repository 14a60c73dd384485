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
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/ironicdriver"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
	"github.com/mogan-manage/mogan-manage/testenv/ironicbench"
	"github.com/mogan-manage/mogan-manage/testenv/neutron"
)

type options struct {
	bin         string
	nodes       int
	runs        int
	concurrency int
	keep        bool
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin", "directory holding mogan-api, mogan-driver-ironic and mogan (make build)")
	flag.IntVar(&o.nodes, "nodes", 200, "machines migrated per run and side")
	flag.IntVar(&o.runs, "runs", 3, "runs of each side; the median is reported")
	flag.IntVar(&o.concurrency, "concurrency", 8, "migrations at a time (mogan migrate --concurrency), and the script's")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory (logs, databases)")
	flag.Parse()
	if o.nodes < 1 || o.runs < 1 || o.concurrency < 1 {
		fmt.Fprintln(os.Stderr, "bench-migrate: -nodes, -runs and -concurrency must be positive")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-migrate:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench-migrate: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// bench is one run's shared state.
type bench struct {
	o         options
	dir       string
	ironic    *ironic.Server
	neutron   *neutron.Neutron
	network   string
	host      *ironicbench.Host
	hc        *http.Client
	batch     int // machines made so far, for fresh names, MACs and IPs
	lines     []string
	mu        sync.Mutex // guards retries
	retries   []string   // the 5xx answers the raw side retried, the host's reruns
	loadStart string
}

func run(ctx context.Context, o options) (err error) {
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	o.bin = bin
	for _, exe := range []string{"mogan-api", "mogan-driver-ironic", "mogan"} {
		if _, err := os.Stat(filepath.Join(bin, exe)); err != nil {
			return fmt.Errorf("%s: %w (run make build, or pass -bin)", exe, err)
		}
	}
	dir, err := os.MkdirTemp("", "bench-migrate-")
	if err != nil {
		return err
	}
	defer func() {
		if o.keep || err != nil {
			logf("working directory %s (kept: the services' and the host's logs)", dir)
			return
		}
		_ = os.RemoveAll(dir)
	}()
	b := &bench{o: o, dir: dir, hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 2 * time.Minute},
		loadStart: loadAverage()}

	logf("starting a standalone Ironic and Neutron")
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
	b.host, err = ironicbench.StartHost(ctx, ironicbench.HostConfig{Bin: bin, Dir: filepath.Join(dir, "mogan"), IronicURL: b.ironic.URL,
		NeutronURL: b.neutron.URL})
	if err != nil {
		return err
	}
	defer func() { _ = b.host.Stop() }()

	logf("warming up: %d machines each way, not counted", o.concurrency)
	if err := b.hostSide(ctx, o.concurrency); err != nil {
		return fmt.Errorf("warm-up, host: %w", err)
	}
	if err := b.rawSide(ctx, o.concurrency); err != nil {
		return fmt.Errorf("warm-up, raw: %w", err)
	}
	var hostTimes, rawTimes []time.Duration
	for i := range o.runs {
		for _, side := range []struct {
			name string
			f    func(context.Context, int) error
			out  *[]time.Duration
		}{{"host", b.hostSide, &hostTimes}, {"raw", b.rawSide, &rawTimes}} {
			before, ironicAt, neutronAt := b.cpu(), fileSize(b.ironic.Log), fileSize(b.neutronLog())
			start := time.Now()
			if err := side.f(ctx, o.nodes); err != nil {
				return fmt.Errorf("run %d, %s: %w", i+1, side.name, err)
			}
			d := time.Since(start)
			*side.out = append(*side.out, d)
			// A service logs a request just after answering it.
			time.Sleep(300 * time.Millisecond)
			line := fmt.Sprintf("run %d, %s: %.1f s wall, load %s; CPU s: %s; Ironic requests: %s; Neutron requests: %s", i+1, side.name,
				d.Seconds(), loadAverage(), b.cpu().since(before), requests(b.ironic.Log, ironicAt), requests(b.neutronLog(), neutronAt))
			logf("%s", line)
			b.lines = append(b.lines, line)
		}
	}
	return b.print(os.Stdout, median(hostTimes), median(rawTimes))
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
	// A machine that failed (Neutron on SQLite answers 500 now and then
	// under load) is migrated by running the command again, as an
	// operator would: the rerun skips what is done.
	for attempt := 0; ; attempt++ {
		failed, err := b.runMigrate(ctx, invPath, secretsPath)
		if err != nil || len(failed) == 0 {
			return err
		}
		if attempt == 2 {
			return fmt.Errorf("mogan migrate: %d machines still failed after two reruns: %s", len(failed), strings.Join(failed, "; "))
		}
		b.retries = append(b.retries, fmt.Sprintf("host: reran mogan migrate for %d failed (%s)", len(failed), strings.Join(failed, "; ")))
	}
}

// runMigrate runs `mogan migrate --adopt` once and returns the reasons of
// the machines that failed.
func (b *bench) runMigrate(ctx context.Context, invPath, secretsPath string) ([]string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(b.o.bin, "mogan"), "migrate", "-i", invPath, "--to", "ironic", "--adopt",
		"--secrets-file", secretsPath, "--concurrency", strconv.Itoa(b.o.concurrency), "-f", "json")
	cmd.Env = append(os.Environ(), "MOGAN_URL="+b.host.URL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var results []struct {
		Machine string `json:"machine"`
		Outcome string `json:"outcome"`
		Reason  string `json:"reason"`
	}
	if jerr := json.Unmarshal(stdout.Bytes(), &results); jerr != nil {
		return nil, fmt.Errorf("mogan migrate: %w, -f json: %w\n%s", err, jerr, tail(stderr.String(), 10))
	}
	var failed []string
	for _, r := range results {
		if r.Outcome != "migrated" && r.Outcome != "skipped" {
			failed = append(failed, r.Machine+": "+r.Reason)
		}
	}
	return failed, nil
}

// rawSide migrates n machines with the requests alone, o.concurrency at
// a time.
func (b *bench) rawSide(ctx context.Context, n int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.o.concurrency)
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
	if err := b.call(ctx, b.neutron.URL+"/v2.0/ports", http.MethodPost, map[string]any{"port": map[string]any{
		"network_id": b.network, "mac_address": m.mac, "fixed_ips": []map[string]string{{"ip_address": m.ip}},
		"name": "mogan-migration-" + migration,
	}}, &port, http.StatusCreated); err != nil {
		return err
	}
	ironicURL := b.ironic.URL + "/v1"
	if err := b.call(ctx, ironicURL+"/nodes", http.MethodPost, map[string]any{
		"uuid": node, "name": m.name, "driver": "fake-hardware", "resource_class": "baremetal", "automated_clean": false,
		"driver_info": map[string]any{"ipmi_address": "192.0.2.10", "ipmi_username": "admin", "ipmi_password": secret},
		"extra":       marker,
	}, nil, http.StatusCreated); err != nil {
		return err
	}
	if err := b.call(ctx, ironicURL+"/ports", http.MethodPost, map[string]any{
		"node_uuid": node, "address": m.mac, "extra": map[string]any{"mogan_migration_id": migration, "vif_port_id": port.Port.ID},
	}, nil, http.StatusCreated); err != nil {
		return err
	}
	for _, step := range []struct{ target, want string }{{"manage", "manageable"}, {"adopt", "active"}} {
		if err := b.call(ctx, ironicURL+"/nodes/"+node+"/states/provision", http.MethodPut, map[string]string{"target": step.target},
			nil, http.StatusAccepted); err != nil {
			return err
		}
		if err := b.waitState(ctx, node, step.want); err != nil {
			return err
		}
	}
	if err := b.call(ctx, ironicURL+"/nodes/"+node, http.MethodPatch, []map[string]any{
		{"op": "add", "path": "/protected", "value": true},
		{"op": "add", "path": "/protected_reason", "value": "mogan-manage migration " + migration},
	}, nil, http.StatusOK); err != nil {
		return err
	}
	// The adoption: bind the port, associate the node with the interlock.
	if err := b.call(ctx, b.neutron.URL+"/v2.0/ports/"+port.Port.ID, http.MethodPut, map[string]any{"port": map[string]any{
		"binding:host_id": node, "binding:vnic_type": "baremetal",
	}}, nil, http.StatusOK); err != nil {
		return err
	}
	return b.call(ctx, ironicURL+"/nodes/"+node, http.MethodPatch, []map[string]any{
		{"op": "add", "path": "/instance_uuid", "value": server},
		{"op": "add", "path": "/protected", "value": true},
		{"op": "add", "path": "/protected_reason", "value": "adopted by mogan-manage server " + server},
		{"op": "add", "path": "/automated_clean", "value": false},
		{"op": "add", "path": "/extra/mogan_interlock", "value": map[string]any{
			"protected": true, "protected_reason": "mogan-manage migration " + migration, "automated_clean": false}},
	}, nil, http.StatusOK)
}

// waitState polls the node until its provision state is want, as the
// driver does: after 20 ms, doubling to 1 s.
func (b *bench) waitState(ctx context.Context, node, want string) error {
	delay := 20 * time.Millisecond
	for {
		var n struct {
			ProvisionState string `json:"provision_state"`
			LastError      string `json:"last_error"`
		}
		if err := b.call(ctx, b.ironic.URL+"/v1/nodes/"+node+"?fields=provision_state,last_error", http.MethodGet, nil, &n, http.StatusOK); err != nil {
			return err
		}
		switch n.ProvisionState {
		case want:
			return nil
		case "verifying", "adopting", "enroll", "manageable":
		default:
			return fmt.Errorf("node %s is %s (%s), waiting for %s", node, n.ProvisionState, n.LastError, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// call sends one request (JSON body, Ironic's microversion) and decodes
// its answer into out; a status other than want is an error.
func (b *bench) call(ctx context.Context, url, method string, body, out any, want int) error {
	return b.callTry(ctx, url, method, body, out, want, 0)
}

// callTry is call's retry-th try.
func (b *bench) callTry(ctx context.Context, url, method string, body, out any, want, retry int) error {
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-OpenStack-Ironic-API-Version", ironicdriver.DefaultAPIVersion)
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 500 && retry < 3 {
		// Neutron on SQLite answers 500 now and then under load: the
		// script tries again, as the host's rerun does.
		b.mu.Lock()
		b.retries = append(b.retries, fmt.Sprintf("raw: %s %s answered %d, retried", method, url, resp.StatusCode))
		b.mu.Unlock()
		time.Sleep(time.Duration(retry+1) * 200 * time.Millisecond)
		return b.callTry(ctx, url, method, body, out, want, retry+1)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, tail(string(data), 3))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// neutronLog is the path of Neutron's log (testenv/neutron writes it in
// its directory).
func (b *bench) neutronLog() string { return filepath.Join(b.dir, "neutron", "neutron.log") }

// fileSize is the size of the file at path (0 when it cannot be read).
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// requests counts the requests a service's log (eventlet's access lines,
// `"GET /v1/nodes/… HTTP/1.1" status: 200 …`) holds from offset on, by
// method and path with uuids folded.
func requests(logPath string, offset int64) string {
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
	total := 0
	for _, line := range strings.Split(string(data), "\n") {
		_, req, ok := strings.Cut(line, `"`)
		if !ok || !strings.Contains(req, " HTTP/1.") {
			continue
		}
		req, _, _ = strings.Cut(req, " HTTP/1.")
		req, _, _ = strings.Cut(req, "?")
		method, path, ok := strings.Cut(req, " ")
		if !ok || !strings.HasPrefix(path, "/") {
			continue
		}
		// A node's uuid or name, a port's id: whatever follows a
		// collection.
		parts := strings.Split(path, "/")
		for i := 1; i < len(parts); i++ {
			switch parts[i-1] {
			case "nodes", "ports", "portgroups", "networks":
				parts[i] = "{id}"
			}
		}
		counts[method+" "+strings.Join(parts, "/")]++
		total++
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, fmt.Sprintf("%s ×%d", k, counts[k]))
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(out, ", "))
}

// cpuTimes are the CPU seconds of the processes a run uses.
type cpuTimes struct{ host, plugin, ironic, neutron float64 }

func (b *bench) cpu() cpuTimes {
	return cpuTimes{host: procCPU(b.host.PID), plugin: procCPU(b.host.PluginPID), ironic: groupCPU(b.ironic.PID),
		neutron: treeCPU(b.neutron.Processes())}
}

func (c cpuTimes) since(before cpuTimes) string {
	return fmt.Sprintf("host %.1f, plugin %.1f, Ironic %.1f, Neutron %.1f", c.host-before.host, c.plugin-before.plugin,
		c.ironic-before.ironic, c.neutron-before.neutron)
}

// procCPU is a process's user+system CPU seconds (0 when it is gone).
func procCPU(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command (which may hold spaces), from field 3.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// groupCPU sums procCPU over the processes of a process group.
func groupCPU(pgid int) float64 {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, err := syscall.Getpgid(pid); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	return treeCPU(pids)
}

func treeCPU(pids []int) float64 {
	total := 0.0
	for _, pid := range pids {
		total += procCPU(pid)
	}
	return total
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute averages.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// goal is the ratio the host may reach.
const goal = 1.2

// print writes the table and the runs' lines.
func (b *bench) print(w io.Writer, host, raw time.Duration) error {
	ratio := host.Seconds() / raw.Seconds()
	verdict := "met"
	if ratio > goal {
		verdict = "**missed**"
	}
	var out strings.Builder
	fmt.Fprintf(&out, "\n%d machines a run (one NIC each), --concurrency %d; median of %d runs, host and raw alternating; "+
		"load average %s at the start, %s at the end (%d CPUs)\n\n", b.o.nodes, b.o.concurrency, b.o.runs, b.loadStart, loadAverage(), runtime.NumCPU())
	out.WriteString("| case | host (mogan migrate --adopt) | raw (the same requests) | ratio | goal |\n| --- | --- | --- | --- | --- |\n")
	fmt.Fprintf(&out, "| %d migrations with adoption, %d at a time | %.1f s | %.1f s | %.2f× | ≤ %.1f× (%s) |\n",
		b.o.nodes, b.o.concurrency, host.Seconds(), raw.Seconds(), ratio, goal, verdict)
	out.WriteString("\nruns:\n")
	for _, l := range b.lines {
		out.WriteString("  " + l + "\n")
	}
	if len(b.retries) > 0 {
		fmt.Fprintf(&out, "\nretries (counted in the times above): %d\n", len(b.retries))
		for _, l := range b.retries {
			out.WriteString("  " + l + "\n")
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}
