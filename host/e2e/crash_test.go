package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// testDriverHost starts a host on the test driver from pluginDir with the
// given control file contents and extra [driver] lines; it returns the
// host and the control file's path.
func testDriverHost(t *testing.T, pluginDir, control, driverExtra string) (*host, string) {
	t.Helper()
	controlPath := filepath.Join(t.TempDir(), "control.json")
	writeFile(t, controlPath, control)
	extra := "[driver]\nname = test\n" + driverExtra
	if pluginDir != "" {
		extra += "plugin_dir = " + pluginDir + "\n"
	}
	extra += "[test]\ncontrol_file = " + controlPath + "\n"
	return startHost(t, hostConfig(t, "", extra)), controlPath
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitStatus polls url until it answers want, failing on any status not in
// allowed or after limit. It returns the statuses seen.
func waitStatus(t *testing.T, url string, want int, allowed []int, limit time.Duration) map[int]int {
	t.Helper()
	seen := map[int]int{}
	deadline := time.Now().Add(limit)
	for {
		code, body := status(t, url)
		seen[code]++
		if code == want {
			return seen
		}
		ok := false
		for _, a := range allowed {
			ok = ok || code == a
		}
		if !ok {
			t.Fatalf("status %d (%s); want %d or one of %v", code, body, want, allowed)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d within %s; statuses seen %v", want, limit, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A plugin killed in the middle of a listing cuts that response (the
// client cannot take it for a whole listing); the host keeps answering,
// 503 at worst, and a restarted plugin serves the next listing.
func TestKill9MidStreamThenRecovery(t *testing.T) {
	h, control := testDriverHost(t, "", `{"count": 100000, "list": "slow", "delay": "1ms"}`, "")
	hostPID, plugin := h.pid(), h.pluginPID(t)
	url := h.URL + "/v1/manageable_servers"

	resp, err := get(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("slow listing: status %d", resp.StatusCode)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 1024)); err != nil {
		t.Fatalf("reading the start of the listing: %v", err)
	}
	if err := syscall.Kill(plugin, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Errorf("the listing ended cleanly after its plugin was killed (%d more bytes)", len(rest))
	}

	writeFile(t, control, `{"count": 10}`)
	seen := waitStatus(t, url, http.StatusOK, []int{http.StatusServiceUnavailable}, 5*time.Second)
	t.Logf("after kill -9 mid-stream: statuses %v", seen)
	if n := listCount(t, url); n != 9 {
		t.Errorf("listing after recovery has %d nodes, want 9", n)
	}
	if h.pid() != hostPID || !proctest.Alive(hostPID) {
		t.Fatal("the host died or changed")
	}
	if restarted := h.pluginPID(t); restarted == plugin {
		t.Errorf("plugin pid %d unchanged after kill -9", plugin)
	}
}

// A hung driver call ends in 504 at [driver] call_timeout, while the host
// answers other requests meanwhile; SIGTERM then leaves no process.
func TestHangIs504WhileHostAnswers(t *testing.T) {
	h, _ := testDriverHost(t, "", `{"list": "hang"}`, "call_timeout = 2\n")
	plugin := h.pluginPID(t)

	hung := make(chan int, 1)
	go func() {
		code, _ := status(t, h.URL+"/v1/manageable_servers")
		hung <- code
	}()
	answered := 0
	for waiting := true; waiting; {
		select {
		case code := <-hung:
			if code != http.StatusGatewayTimeout {
				t.Errorf("hung listing: status %d, want 504", code)
			}
			waiting = false
		default:
			for _, path := range []string{"/healthz", "/", "/v1"} {
				if code, body := status(t, h.URL+path); code != http.StatusOK {
					t.Fatalf("GET %s during a hung driver call: %d %s", path, code, body)
				}
			}
			answered++
			time.Sleep(100 * time.Millisecond)
		}
	}
	if answered == 0 {
		t.Error("no request was made while the driver call hung")
	}

	h.stop(t)
	waitGone(t, plugin, 10*time.Second)
}

// A plugin that crashes at every start makes the host answer 503 with
// Retry-After, quickly, never hanging; once it starts again, 200.
func TestCrashLoopAnswers503WithRetryAfter(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "mogan-driver-test")
	if err := os.Link(filepath.Join(binDir, "mogan-driver-test"), bin); err != nil {
		t.Fatal(err)
	}
	h, _ := testDriverHost(t, dir, `{"count": 3}`, "")
	url := h.URL + "/v1/manageable_servers"
	crash := bin + ".crash-on-start"
	writeFile(t, crash, "")
	if err := syscall.Kill(h.pluginPID(t), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	retryAfter := 0
	for start := time.Now(); time.Since(start) < 2*time.Second; {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		resp, err := get(ctx, url)
		if errors.Is(err, context.DeadlineExceeded) {
			cancel()
			t.Fatal("a request hung while the plugin crash-looped")
		}
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		cancel()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status %d while crash-looping, want 503", resp.StatusCode)
		}
		if resp.Header.Get("Retry-After") != "" {
			retryAfter++
		}
		time.Sleep(20 * time.Millisecond)
	}
	if retryAfter == 0 {
		t.Error("no 503 carried Retry-After while the plugin crash-looped")
	}

	if err := os.Remove(crash); err != nil {
		t.Fatal(err)
	}
	seen := waitStatus(t, url, http.StatusOK, []int{http.StatusServiceUnavailable}, 40*time.Second)
	t.Logf("after the crash loop: statuses %v", seen)
}
