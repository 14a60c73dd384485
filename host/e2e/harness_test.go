package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// binDir holds mogan-api and the plugins, built once by TestMain.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mogan-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	for out, pkg := range map[string]string{
		"mogan-api":           "../cmd/mogan-api",
		"mogan-driver-noop":   "../../plugins/noop",
		"mogan-driver-test":   "../../testenv/cmd/mogan-driver-test",
		"mogan-driver-ironic": "../../plugins/ironic/cmd/mogan-driver-ironic",
	} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, out), pkg)
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, b)
			return 1
		}
	}
	binDir = dir
	return m.Run()
}

// host is a running bin/mogan-api.
type host struct {
	URL  string
	cmd  *exec.Cmd
	logs *proctest.Buffer
	done chan struct{}
}

func freePort(t testing.TB) int {
	t.Helper()
	port, err := proctest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// hostConfig is a configuration file body for a host on a free port. The
// extra lines are appended (e.g. "[driver]\nname = testing\n").
func hostConfig(t testing.TB, dbConnection, extra string) string {
	t.Helper()
	if dbConnection == "" {
		dbConnection = "sqlite://" + filepath.Join(t.TempDir(), "mogan.sqlite")
	}
	return fmt.Sprintf(`[DEFAULT]
auth_strategy = noauth
debug = true

[api]
host_ip = 127.0.0.1
port = %d

[database]
connection = %s

[driver]
plugin_dir = %s
`, freePort(t), dbConnection, binDir) + extra
}

// startHost runs mogan-api with conf and waits until it has started: its
// repair pass done, its API routes served.
// It is stopped with SIGTERM at the end of the test.
func startHost(t testing.TB, conf string) *host {
	t.Helper()
	return startHostWithEnv(t, conf, nil)
}

// startHostWithEnv is startHost with extra environment variables (which
// the plugins inherit), e.g. OS_CLIENT_CONFIG_FILE.
func startHostWithEnv(t testing.TB, conf string, env []string) *host {
	t.Helper()
	h := spawnHost(t, conf, env)
	t.Cleanup(func() {
		h.stop(t)
		if t.Failed() {
			t.Logf("mogan-api log:\n%s", h.logs)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-h.done:
			t.Fatalf("mogan-api exited at start-up:\n%s", h.logs)
		default:
		}
		if h.started() {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("mogan-api did not answer in 30 s:\n%s", h.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// spawnHost writes conf and starts mogan-api on it (with env added to
// this process's environment), without waiting for it to answer: each
// start-up helper registers its own cleanup and waits its own time.
func spawnHost(t testing.TB, conf string, env []string) *host {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mogan.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var port string
	for _, line := range strings.Split(conf, "\n") {
		if v, ok := strings.CutPrefix(line, "port = "); ok {
			port = v
		}
	}
	h := &host{URL: "http://127.0.0.1:" + port, logs: &proctest.Buffer{}, done: make(chan struct{})}
	h.cmd = exec.Command(filepath.Join(binDir, "mogan-api"), "--config-file", path)
	h.cmd.Stdout, h.cmd.Stderr = h.logs, h.logs
	h.cmd.Env = append(os.Environ(), env...)
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	return h
}

// started reports whether the host answers and its start-up repair pass
// is done: /readyz says anything but "starting" (a 503 naming a backend
// that is down is started too). The API's routes are 503 until then.
func (h *host) started() bool {
	req, err := http.NewRequest(http.MethodGet, h.URL+"/readyz", nil)
	if err != nil {
		return false
	}
	// No keep-alive left behind: a test of max_connections counts them.
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var ready struct {
		Status string `json:"status"`
	}
	return json.NewDecoder(resp.Body).Decode(&ready) == nil && ready.Status != "" && ready.Status != "starting"
}

// dbSync runs `mogan-api db sync` with conf.
func dbSync(t testing.TB, conf string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mogan.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(binDir, "mogan-api"), "db", "sync", "--config-file", path).CombinedOutput()
	if err != nil {
		t.Fatalf("mogan-api db sync: %v\n%s", err, out)
	}
}

// stop sends SIGTERM and waits for the host to exit.
func (h *host) stop(t testing.TB) {
	t.Helper()
	select {
	case <-h.done:
		return
	default:
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.done:
	case <-time.After(40 * time.Second):
		_ = h.cmd.Process.Kill()
		t.Errorf("mogan-api did not exit within 40 s of SIGTERM")
		<-h.done
	}
}

// pid is the host's process id.
func (h *host) pid() int { return h.cmd.Process.Pid }

// childPIDs lists the processes whose parent is pid (children are listed
// per thread, so every thread of pid is read).
func childPIDs(t testing.TB, pid int) []int {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, path := range tasks {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the thread ended
		}
		for _, f := range strings.Fields(string(data)) {
			var p int
			if _, err := fmt.Sscan(f, &p); err == nil {
				pids = append(pids, p)
			}
		}
	}
	return pids
}

// pluginPID waits for the host's one plugin process and returns its pid.
func (h *host) pluginPID(t testing.TB) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if kids := childPIDs(t, h.pid()); len(kids) == 1 {
			return kids[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("mogan-api %d has no single plugin child: %v", h.pid(), childPIDs(t, h.pid()))
	return 0
}

// waitGone fails the test unless pid has exited within limit (used after
// the host's SIGTERM: no plugin may outlive it).
func waitGone(t testing.TB, pid int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for proctest.Alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin %d still running %s after the host's SIGTERM", pid, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// get performs GET url with a bounded time.
func get(ctx context.Context, url string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// status GETs url and returns the status code and body.
func status(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := get(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(bufio.NewReader(resp.Body))
	return resp.StatusCode, string(b)
}
