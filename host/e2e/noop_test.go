package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// TestNoopAnswers501AndSurvivesKill9 is the foundation's bar: with the noop
// driver the listing is 501 in Mogan's error format; after the plugin is
// killed with SIGKILL the host keeps answering (503 at worst) and within
// 5 s a restarted plugin answers 501 again; the host's PID never changes;
// SIGTERM leaves no process behind.
func TestNoopAnswers501AndSurvivesKill9(t *testing.T) {
	h := startHost(t, hostConfig(t, "", "[driver]\nname = noop\n"))
	hostPID := h.pid()
	url := h.URL + "/v1/manageable_servers"

	check501 := func() {
		t.Helper()
		resp, err := get(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusNotImplemented {
			t.Fatalf("status %d; want 501", resp.StatusCode)
		}
		if !strings.HasPrefix(resp.Header.Get("X-Openstack-Request-Id"), "req-") {
			t.Errorf("X-Openstack-Request-Id = %q", resp.Header.Get("X-Openstack-Request-Id"))
		}
		var body struct {
			ErrorMessage string `json:"error_message"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		var fault struct {
			FaultCode   string  `json:"faultcode"`
			FaultString string  `json:"faultstring"`
			DebugInfo   *string `json:"debuginfo"`
		}
		if err := json.Unmarshal([]byte(body.ErrorMessage), &fault); err != nil {
			t.Fatalf("error_message %q: %v", body.ErrorMessage, err)
		}
		if fault.FaultCode != "Server" || !strings.Contains(fault.FaultString, "not implemented") {
			t.Errorf("fault = %+v", fault)
		}
	}
	check501()

	plugin := h.pluginPID(t)
	if err := syscall.Kill(plugin, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	seen := map[int]int{}
	for {
		code, body := status(t, url)
		seen[code]++
		if code != http.StatusNotImplemented && code != http.StatusServiceUnavailable {
			t.Fatalf("after kill -9: status %d (%s); want 501 or 503", code, body)
		}
		if code == http.StatusNotImplemented {
			break
		}
		if time.Since(killed) > 5*time.Second {
			t.Fatalf("no 501 within 5 s of kill -9; statuses seen %v", seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("after kill -9: statuses %v, back to 501 in %v", seen, time.Since(killed).Round(time.Millisecond))
	if h.pid() != hostPID || !proctest.Alive(hostPID) {
		t.Fatalf("host PID changed or host died")
	}
	restarted := h.pluginPID(t)
	if restarted == plugin {
		t.Errorf("plugin PID %d unchanged after kill -9", plugin)
	}

	h.stop(t)
	waitGone(t, restarted, 5*time.Second)
}
