package ironicbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// HostConfig is a mogan-api with the Ironic driver to start, as the
// benchmark and the request-count test run it: noauth, the reconciler off
// (it would list every node in the background, once at start and then
// every minute), on its SQLite default unless Database says otherwise.
type HostConfig struct {
	// Bin holds mogan-api and mogan-driver-ironic.
	Bin string
	// Dir is the host's state directory (created); its log is
	// Dir/mogan-api.log.
	Dir       string
	IronicURL string
	// GlanceURL and NeutronURL configure [glance] and [neutron] (noauth);
	// empty leaves them unconfigured.
	GlanceURL, NeutronURL string
	// Database is a PostgreSQL URL (the schema is synced first); empty is
	// SQLite in Dir.
	Database string
	// Backends, when set, replace IronicURL's one backend: [DEFAULT]
	// enabled_backends names them in order, each a section of its name
	// with driver = ironic, its Ironic's url and auth_type = none — the
	// same mogan-driver-ironic binary, one plugin process each.
	Backends []Backend
}

// Backend is one of HostConfig.Backends: a name and its Ironic.
type Backend struct {
	Name, IronicURL string
}

// Host is a running mogan-api and its plugin.
type Host struct {
	URL string
	// PID and PluginPID are mogan-api's and its (first) driver plugin's.
	PID, PluginPID int
	// Plugins are the PIDs of the plugin processes by backend ("ironic"
	// for the one backend of a host without HostConfig.Backends).
	Plugins map[string]int

	cmd  *exec.Cmd
	done chan struct{}
}

// StartHost writes cfg's configuration, starts mogan-api in its own
// process group (killed with the caller) and waits until it answers and
// has started its plugin.
func StartHost(ctx context.Context, cfg HostConfig) (*Host, error) {
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	conn := cfg.Database
	if conn == "" {
		conn = "sqlite://" + filepath.Join(cfg.Dir, "mogan.sqlite")
	}
	port, err := proctest.FreePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(cfg.Dir, "mogan.conf")
	backends := cfg.Backends
	defaults, driverName, sections := "", "name = ironic\n", fmt.Sprintf("\n[ironic]\nurl = %s\n", cfg.IronicURL)
	if len(backends) > 0 {
		names := make([]string, len(backends))
		sections = ""
		for i, b := range backends {
			names[i] = b.Name
			sections += fmt.Sprintf("\n[%s]\ndriver = ironic\nurl = %s\nauth_type = none\n", b.Name, b.IronicURL)
		}
		defaults, driverName = "enabled_backends = "+strings.Join(names, ", ")+"\n", ""
	} else {
		backends = []Backend{{Name: "ironic", IronicURL: cfg.IronicURL}}
	}
	text := fmt.Sprintf(`[DEFAULT]
auth_strategy = noauth
state_path = %s
host = bench
%s
[api]
host_ip = 127.0.0.1
port = %d

[database]
connection = %s

[driver]
%splugin_dir = %s
call_timeout = 120
%s
[manage]
# The reconciler would list every node in the background, once at start
# and then every minute, and skew the measurements.
reconcile_interval = 0
`, cfg.Dir, defaults, port, conn, driverName, cfg.Bin, sections)
	if cfg.GlanceURL != "" {
		text += fmt.Sprintf("\n[glance]\nurl = %s\nauth_type = none\n", cfg.GlanceURL)
	}
	if cfg.NeutronURL != "" {
		text += fmt.Sprintf("\n[neutron]\nurl = %s\nauth_type = none\n", cfg.NeutronURL)
	}
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	exe := filepath.Join(cfg.Bin, "mogan-api")
	if cfg.Database != "" {
		if out, err := exec.CommandContext(ctx, exe, "db", "sync", "--config-file", conf).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("mogan-api db sync: %w\n%s", err, out)
		}
	}
	logFile, err := os.Create(filepath.Join(cfg.Dir, "mogan-api.log"))
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }()
	h := &Host{URL: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{})}
	h.cmd = exec.Command(exe, "--config-file", conf)
	h.cmd.Stdout, h.cmd.Stderr = logFile, logFile
	// Its own process group (the plugin joins it), killed with us.
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := h.cmd.Start(); err != nil {
		return nil, err
	}
	h.PID = h.cmd.Process.Pid
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	hc := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-h.done:
			return nil, fmt.Errorf("mogan-api exited at start-up; see %s", logFile.Name())
		case <-ctx.Done():
			_ = h.Stop()
			return nil, ctx.Err()
		default:
		}
		if resp, err := hc.Get(h.URL + "/healthz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			_ = h.Stop()
			return nil, fmt.Errorf("mogan-api did not answer in 60 s; see %s", logFile.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for time.Now().Before(deadline) {
		if kids := children(h.PID); len(kids) == len(backends) {
			if len(kids) == 1 {
				h.Plugins = map[string]int{backends[0].Name: kids[0]}
			} else {
				h.Plugins = pluginsFromLog(logFile.Name(), kids)
			}
			if len(h.Plugins) == len(backends) {
				h.PluginPID = h.Plugins[backends[0].Name]
				return h, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = h.Stop()
	return nil, fmt.Errorf("mogan-api %d has not one plugin child per backend (%d): %v; see %s",
		h.PID, len(backends), children(h.PID), logFile.Name())
}

// pluginStarted is the host's log line for a plugin process it started,
// in hclog's text or JSON form: the backend's name and the pid.
var (
	pluginStarted = regexp.MustCompile(`driver plugin started`)
	logBackend    = regexp.MustCompile(`"?backend"?[=:]"?([a-z0-9][a-z0-9_-]*)`)
	logPID        = regexp.MustCompile(`"?pid"?[=:]"?([0-9]+)`)
)

// pluginsFromLog maps the host's plugin children to their backends by
// the host's "driver plugin started" lines (the processes run the same
// binary with the same arguments, so nothing else tells them apart).
func pluginsFromLog(path string, kids []int) map[string]int {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	out := map[string]int{}
	for _, line := range strings.Split(string(data), "\n") {
		if !pluginStarted.MatchString(line) {
			continue
		}
		b, p := logBackend.FindStringSubmatch(line), logPID.FindStringSubmatch(line)
		if b == nil || p == nil {
			continue
		}
		if pid, err := strconv.Atoi(p[1]); err == nil && slices.Contains(kids, pid) {
			out[b[1]] = pid
		}
	}
	return out
}

// Stop sends SIGTERM, waits, and kills the process group whatever is left.
func (h *Host) Stop() error {
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case <-h.done:
	case <-time.After(30 * time.Second):
		err = errors.New("mogan-api did not exit within 30 s of SIGTERM; killed")
	}
	_ = syscall.Kill(-h.PID, syscall.SIGKILL)
	<-h.done
	// Each plugin runs in a process group of its own: one that outlived
	// its host is killed too (if that pid still leads its group).
	for _, pid := range h.Plugins {
		if f := procStat(pid); len(f) > 2 && f[2] == strconv.Itoa(pid) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
	return err
}

// List GETs one listing page (a URL of the host's) and returns how many
// nodes it held and its next link ("" on the last page).
func (h *Host) List(ctx context.Context, hc *http.Client, page string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, page, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		text, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, "", fmt.Errorf("GET %s: %s %s", page, resp.Status, text)
	}
	var doc struct {
		Servers []struct {
			UUID string `json:"uuid"`
		} `json:"manageable_servers"`
		Links []struct {
			Href string `json:"href"`
			Rel  string `json:"rel"`
		} `json:"manageable_servers_links"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return 0, "", fmt.Errorf("GET %s: %w", page, err)
	}
	next := ""
	for _, l := range doc.Links {
		if l.Rel == "next" {
			next = l.Href
		}
	}
	return len(doc.Servers), next, nil
}

// Run is a stretch of a listing's items of one backend, in order.
type Run struct {
	Backend string
	Nodes   int
}

// ListRuns GETs one listing page as List does and also returns the
// backends of its items as runs in order ([{east 5000} {west 5000}]), so
// that a caller can check both the order and the "backend" of every item.
func (h *Host) ListRuns(ctx context.Context, hc *http.Client, page string) ([]Run, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, page, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		text, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, "", fmt.Errorf("GET %s: %s %s", page, resp.Status, text)
	}
	var doc struct {
		Servers []struct {
			Backend string `json:"backend"`
		} `json:"manageable_servers"`
		Links []struct {
			Href string `json:"href"`
			Rel  string `json:"rel"`
		} `json:"manageable_servers_links"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", page, err)
	}
	var runs []Run
	for _, s := range doc.Servers {
		runs = AddRun(runs, Run{Backend: s.Backend, Nodes: 1})
	}
	next := ""
	for _, l := range doc.Links {
		if l.Rel == "next" {
			next = l.Href
		}
	}
	return runs, next, nil
}

// AddRun appends r to runs, extending the last run when it is of the
// same backend.
func AddRun(runs []Run, r Run) []Run {
	if n := len(runs); n > 0 && runs[n-1].Backend == r.Backend {
		runs[n-1].Nodes += r.Nodes
		return runs
	}
	return append(runs, r)
}

// procStat returns the fields of /proc/pid/stat after the command name
// (the third is the process group).
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

// children lists the processes whose parent is pid.
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var pids []int
	for _, path := range tasks {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if p, err := strconv.Atoi(f); err == nil {
				pids = append(pids, p)
			}
		}
	}
	return pids
}
