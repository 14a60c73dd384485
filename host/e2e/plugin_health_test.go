package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// Issue 8 row 1: a query string that is not UTF-8 cannot cross to the
// plugin (gRPC refuses to marshal it). It is a 400 naming the parameter,
// every time, and the plugin is neither killed nor restarted: before, 30
// such requests had the healthy plugin restarted until every caller got
// 503.
func TestInvalidUTF8QueryIs400PluginKept(t *testing.T) {
	h, _ := testDriverHost(t, "", `{"count": 10}`, "")
	plugin := h.pluginPID(t)
	base := h.URL + "/v1/manageable_servers"
	queries := map[string]string{
		"resource_class": "?resource_class=%ff",
		"marker":         "?marker=%ff",
		"all":            "?all=%ff",
	}
	for param, query := range queries {
		t.Run(param, func(t *testing.T) {
			for i := range 30 {
				code, body := status(t, base+query)
				if code != http.StatusBadRequest || !strings.Contains(body, param) {
					t.Fatalf("request %d: GET %s = %d %s; want 400 naming %s", i, query, code, body, param)
				}
			}
		})
	}
	// The manage body's strings cross to the plugin too.
	body := []byte(`{"name": "x", "node_uuid": "` + "\xff" + `0000000-0000-4000-8000-000000000001"}`)
	for i := range 30 {
		resp, err := http.Post(base, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("request %d: POST with a node_uuid that is not UTF-8 = %d; want 400", i, resp.StatusCode)
		}
	}
	if got := h.pluginPID(t); got != plugin {
		t.Errorf("plugin pid %d -> %d after invalid requests", plugin, got)
	}
	if n := listCount(t, base); n != 9 {
		t.Errorf("listing after the invalid requests has %d nodes, want 9", n)
	}
	if strings.Contains(h.logs.String(), "driver plugin crashed") {
		t.Error("the host log reports a plugin crash")
	}
}

// Issue 8 row 5: a plugin that does not answer at all (SIGSTOP) is found
// hung by the ping that follows the missed deadline: that call is a 504
// saying so, the plugin is killed, and the next call is served by a new
// one. A plugin whose driver is merely slow answers the ping and is left
// alone, pid unchanged.
func TestStoppedPluginRestartedSlowPluginKept(t *testing.T) {
	const callTimeout, pingTimeout = time.Second, 2 * time.Second
	h, control := testDriverHost(t, "", `{"count": 10, "list": "hang"}`, "call_timeout = 1\n")
	url := h.URL + "/v1/manageable_servers"
	plugin := h.pluginPID(t)

	// Slow: the driver hangs in the call, the process answers pings.
	for range 3 {
		if code, body := status(t, url); code != http.StatusGatewayTimeout || strings.Contains(body, "hung") {
			t.Fatalf("listing from a slow driver: %d %s; want 504 not saying hung", code, body)
		}
	}
	writeFile(t, control, `{"count": 10}`)
	if n := listCount(t, url); n != 9 {
		t.Fatalf("listing after the slow calls has %d nodes, want 9", n)
	}
	if got := h.pluginPID(t); got != plugin {
		t.Fatalf("a slow driver had its plugin restarted: pid %d -> %d", plugin, got)
	}

	// Hung: the whole process is stopped.
	stopProcess(t, plugin)
	t.Cleanup(func() { _ = syscall.Kill(plugin, syscall.SIGKILL) })
	start := time.Now()
	code, body := status(t, url)
	took := time.Since(start)
	if code != http.StatusGatewayTimeout || !strings.Contains(body, "hung") {
		t.Fatalf("listing from a stopped plugin: %d %s; want 504 saying it hung", code, body)
	}
	t.Logf("a stopped plugin's listing: 504 after %s (call_timeout %s, ping timeout %s)", took, callTimeout, pingTimeout)
	if limit := callTimeout + pingTimeout + 2*time.Second; took > limit {
		t.Errorf("the 504 took %s, more than %s", took, limit)
	}
	waitGone(t, plugin, 10*time.Second)
	start = time.Now()
	if n := listCount(t, url); n != 9 {
		t.Errorf("listing after the restart has %d nodes, want 9", n)
	}
	t.Logf("next listing (restarting the plugin): 200 after %s", time.Since(start))
	if got := h.pluginPID(t); got == plugin {
		t.Errorf("plugin pid %d unchanged after it hung", plugin)
	}
}

// stopProcess sends SIGSTOP to pid and waits until it is stopped (the
// signal is delivered asynchronously).
func stopProcess(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatal(err)
		}
		if f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:])); len(f) > 0 && f[0] == "T" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d not stopped 5 s after SIGSTOP", pid)
		}
	}
}

// Issue 8 row 8: a SIGKILLed host leaves its plugin's socket directory
// behind; the next host removes it at start, and only it: a directory that
// is not ours (another name, another user's) stays.
func TestKilledHostSocketDirRemoved(t *testing.T) {
	// A short TMPDIR: the plugin's Unix socket path must stay under 108
	// bytes.
	tmp, err := os.MkdirTemp("", "e2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(tmp) })
	env := []string{"TMPDIR=" + tmp}
	conf := hostConfig(t, "", "[driver]\nname = noop\n")

	notOurs := []string{filepath.Join(tmp, "mogan-driver-foo"), filepath.Join(tmp, "mogan-driver-123456789")}
	if os.Getuid() == 0 {
		// Named as a dead host's (pid 2^22+1 is above Linux's pid_max), but
		// another user's.
		notOurs = append(notOurs, filepath.Join(tmp, "mogan-driver-4194305-1-1"))
	}
	for i, dir := range notOurs {
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if err := os.Chown(dir, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
	}

	first := startHostWithEnv(t, conf, env)
	plugin := first.pluginPID(t)
	before := socketDirs(t, tmp, notOurs)
	if len(before) != 1 {
		t.Fatalf("socket directories of the running host: %v, want one", before)
	}
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-first.done
	waitGone(t, plugin, 10*time.Second)
	if left := socketDirs(t, tmp, notOurs); len(left) != 1 || left[0] != before[0] {
		t.Fatalf("after SIGKILL: socket directories %v, want the leftover %s", left, before[0])
	}

	second := startHostWithEnv(t, conf, env)
	second.pluginPID(t)
	after := socketDirs(t, tmp, notOurs)
	if len(after) != 1 || after[0] == before[0] {
		t.Errorf("after the restart: socket directories %v; want only the new host's, not %s", after, before[0])
	}
	for _, dir := range notOurs {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("a directory not ours was touched: %v", err)
		}
	}
	if !strings.Contains(second.logs.String(), before[0]) {
		t.Errorf("the host did not log that it removed %s", before[0])
	}
	second.stop(t)
	if left := socketDirs(t, tmp, notOurs); len(left) != 0 {
		t.Errorf("after SIGTERM: socket directories %v left", left)
	}
	if proctest.Alive(second.pid()) {
		t.Error("the host still runs after SIGTERM")
	}
}

// socketDirs lists the plugin socket directories in tmp, except skip.
func socketDirs(t *testing.T, tmp string, skip []string) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(tmp, "mogan-driver-*"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, d := range all {
		if !slices.Contains(skip, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}
