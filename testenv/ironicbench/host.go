package ironicbench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
}

// Host is a running mogan-api and its plugin.
type Host struct {
	URL string
	// PID and PluginPID are mogan-api's and its driver plugin's.
	PID, PluginPID int

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
	text := fmt.Sprintf(`[DEFAULT]
auth_strategy = noauth
state_path = %s
host = bench

[api]
host_ip = 127.0.0.1
port = %d

[database]
connection = %s

[driver]
name = ironic
plugin_dir = %s
call_timeout = 120

[ironic]
url = %s

[manage]
# The reconciler would list every node in the background, once at start
# and then every minute, and skew the measurements.
reconcile_interval = 0
`, cfg.Dir, port, conn, cfg.Bin, cfg.IronicURL)
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
		if kids := children(h.PID); len(kids) == 1 {
			h.PluginPID = kids[0]
			return h, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = h.Stop()
	return nil, fmt.Errorf("mogan-api %d has no single plugin child: %v", h.PID, children(h.PID))
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
