package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Observability against the real services: a listing and an adoption
// through the real Ironic driver move the counters of /metrics (served on
// a port of its own here), the request id reaches the plugin, Glance,
// Neutron and Ironic (whose oslo log shows it as the global request id),
// and /readyz follows Ironic and the driver plugin going away and coming
// back.
func TestObservability(t *testing.T) {
	c, nodes := startCloud(t, 1)
	// The plugin runs from a directory of this test's own: it is swapped
	// for a broken one below.
	pluginDir := t.TempDir()
	copyFile(t, filepath.Join(binDir, "mogan-driver-ironic"), filepath.Join(pluginDir, "mogan-driver-ironic"))
	metricsPort := freePort(t)
	conf := cloudHostConfig(t, c, "", c.Neutron.URL, fmt.Sprintf("[api]\nmetrics_port = %d\n", metricsPort))
	conf = strings.Replace(conf, "plugin_dir = "+binDir, "plugin_dir = "+pluginDir, 1)
	conf = strings.Replace(conf, "[api]\nhost_ip", "[api]\nmetrics_host_ip = 127.0.0.1\nhost_ip", 1)
	h := startHost(t, conf)
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)

	if _, code, body := listManageable(t, h.URL); code != http.StatusOK {
		t.Fatalf("list: %d %s", code, body)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.URL+"/v1/manageable_servers",
		strings.NewReader(`{"name": "web-1", "node_uuid": "`+nodes[0].UUID+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	requestID := resp.Header.Get("X-Openstack-Request-Id")
	if resp.StatusCode != http.StatusCreated || !regexp.MustCompile(`^req-[0-9a-f-]{36}$`).MatchString(requestID) {
		t.Fatalf("adopt: %d, request id %q", resp.StatusCode, requestID)
	}

	t.Run("metrics moved", func(t *testing.T) {
		if code, _ := status(t, h.URL+"/metrics"); code != http.StatusNotFound {
			t.Errorf("GET /metrics on the API port = %d, want 404 (metrics_port is set)", code)
		}
		code, body := status(t, metricsURL)
		if code != http.StatusOK {
			t.Fatalf("GET %s = %d", metricsURL, code)
		}
		atLeast := map[string]float64{
			`mogan_http_requests_total{code="200",method="GET",route="/v1/manageable_servers"}`:  1,
			`mogan_http_requests_total{code="201",method="POST",route="/v1/manageable_servers"}`: 1,
			`mogan_driver_calls_total{backend="ironic",outcome="ok",rpc="ListManageableNodes"}`:  1,
			`mogan_driver_calls_total{backend="ironic",outcome="ok",rpc="GetManageableNode"}`:    1,
			`mogan_driver_calls_total{backend="ironic",outcome="ok",rpc="Manage"}`:               1,
			`mogan_adoptions_total{backend="ironic",outcome="adopted"}`:                          1,
			`mogan_upstream_requests_total{code="200",service="glance"}`:                         1,
			`mogan_upstream_requests_total{code="200",service="neutron"}`:                        1,
			`mogan_notifications_dropped_total`:                                                  0,
			`go_goroutines`:                                                                      1,
		}
		got := parseMetrics(body)
		for series, min := range atLeast {
			if v, ok := got[series]; !ok || v < min {
				t.Errorf("%s = %v (present %v), want at least %v", series, v, ok, min)
			}
		}
		t.Logf("a sample of /metrics:\n%s", grepLines(body, "mogan_"))
	})

	t.Run("request id travels", func(t *testing.T) {
		logs := h.logs.String()
		// Each want is a line holding every part, in any order: go-plugin
		// relays a plugin's log fields from a map, so their order varies.
		for _, want := range [][]string{
			// the plugin's own line for the call, forwarded by the host
			{`driver call:`, `method=/mogan.driver.v1.Driver/Manage( |$)`, `request_id=` + requestID},
			// the host's calls to Neutron and Glance, with their own ids
			{`upstream request:`, `service=neutron`, `upstream_request_id=req-[0-9a-f-]{36}`},
			{`upstream request:`, `service=glance`, `request_id=` + requestID},
			// the plugin's call to Ironic, with Ironic's id
			{`upstream request:`, `service=ironic`, `upstream_request_id=req-`},
		} {
			if !hasLineWithAll(logs, want...) {
				t.Errorf("the host's log lacks a line with all of %q", want)
			}
		}
		ironicLog, err := os.ReadFile(c.Ironic.Log)
		if err != nil {
			t.Fatal(err)
		}
		// oslo's context shows "[<global_request_id> <request_id> …]".
		global := regexp.MustCompile(`\[` + requestID + ` req-[0-9a-f-]{36} `)
		if line := global.FindString(string(ironicLog)); line == "" {
			t.Errorf("Ironic's log never names %s as the global request id", requestID)
		}
		for _, line := range strings.Split(string(ironicLog), "\n") {
			if strings.Contains(line, requestID) {
				t.Logf("Ironic's log: %s", line)
				break
			}
		}
	})

	t.Run("readyz", func(t *testing.T) {
		expectReady(t, h.URL, http.StatusOK, "")

		// Ironic stopped (SIGSTOP: it answers nothing): 503 naming the
		// driver's backend; back, 200.
		signalGroup(t, c.Ironic.PID, syscall.SIGSTOP)
		expectReady(t, h.URL, http.StatusServiceUnavailable, "driver_backend.ironic")
		signalGroup(t, c.Ironic.PID, syscall.SIGCONT)
		waitReady(t, h.URL)

		// A killed plugin: the probe itself restarts it, as any call would.
		old := h.pluginPID(t)
		_ = syscall.Kill(old, syscall.SIGKILL)
		waitGone(t, old, 10*time.Second)
		waitReady(t, h.URL)
		if pid := h.pluginPID(t); pid == old {
			t.Errorf("plugin pid %d unchanged after it was killed", pid)
		}

		// A plugin that is killed and cannot be restarted: 503 naming
		// the driver; the binary back, 200 once the backoff allows.
		good := filepath.Join(pluginDir, "mogan-driver-ironic")
		saved := filepath.Join(t.TempDir(), "saved")
		if err := os.Rename(good, saved); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(good, []byte("#!/bin/sh\necho broken >&2\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		old = h.pluginPID(t)
		_ = syscall.Kill(old, syscall.SIGKILL)
		waitGone(t, old, 10*time.Second)
		// Each probe outside the backoff window tries a restart, which
		// fails: 503 every time, until a failed restart is counted.
		for deadline := time.Now().Add(time.Minute); failedRestarts(t, metricsURL) < 1; time.Sleep(100 * time.Millisecond) {
			expectReady(t, h.URL, http.StatusServiceUnavailable, "driver.ironic")
			if time.Now().After(deadline) {
				t.Fatal("no failed restart counted in a minute")
			}
		}
		expectReady(t, h.URL, http.StatusServiceUnavailable, "driver.ironic")
		if err := os.Rename(saved, good); err != nil {
			t.Fatal(err)
		}
		waitReady(t, h.URL)
	})
}

// failedRestarts reads mogan_driver_plugin_restarts_total{result="failed"}.
func failedRestarts(t *testing.T, metricsURL string) float64 {
	t.Helper()
	code, body := status(t, metricsURL)
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d", metricsURL, code)
	}
	return parseMetrics(body)[`mogan_driver_plugin_restarts_total{backend="ironic",result="failed"}`]
}

// readyBody is /readyz's answer.
type readyBody struct {
	Status string   `json:"status"`
	Down   []string `json:"down"`
	Checks map[string]struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"checks"`
}

func readyz(t *testing.T, url string) (int, readyBody, string) {
	t.Helper()
	code, body := status(t, url+"/readyz")
	var rb readyBody
	if err := json.Unmarshal([]byte(body), &rb); err != nil {
		t.Fatalf("/readyz: %d %q: %v", code, body, err)
	}
	return code, rb, body
}

// expectReady checks one /readyz answer: its status and, for a 503, that
// down names down.
func expectReady(t *testing.T, url string, want int, down string) {
	t.Helper()
	code, rb, body := readyz(t, url)
	if code != want || (down != "" && !contains(rb.Down, down)) {
		t.Errorf("/readyz = %d %s, want %d with %q down", code, body, want, down)
	}
}

// waitReady polls /readyz until it is 200 (a restart's backoff, a
// backend's reconnection), failing after a minute.
func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		code, _, body := readyz(t, url)
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d after a minute: %s", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// signalGroup signals a service's process group (it leads its own).
func signalGroup(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(-pid, sig); err != nil {
		t.Fatalf("kill -%d -%d: %v", sig, pid, err)
	}
	if sig == syscall.SIGSTOP {
		t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGCONT) })
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// parseMetrics reads Prometheus' text format: "series value" per line.
func parseMetrics(body string) map[string]float64 {
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// grepLines keeps the sample lines starting with prefix.
func grepLines(body, prefix string) string {
	var keep []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) && !strings.Contains(line, "_bucket{") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// hasLineWithAll reports whether one line of logs matches every pattern.
func hasLineWithAll(logs string, patterns ...string) bool {
	res := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		res[i] = regexp.MustCompile(p)
	}
	for line := range strings.SplitSeq(logs, "\n") {
		if !slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return !re.MatchString(line) }) {
			return true
		}
	}
	return false
}
