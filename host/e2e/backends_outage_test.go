package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// One backend of several failing (issue 16 §4): its Ironic stopped, or its
// plugin killed or hung. The other backends keep answering, undelayed, and
// the failed one comes back without a restart of the host.

// TestBackendIronicStoppedThenBack stops east's Ironic (SIGSTOP: it
// answers nothing): a listing of every backend is a 503 naming east,
// west's listing and adoptions work, /readyz stays 200 naming east's
// backend check; once Ironic continues, everything is back, with the same
// host and plugin processes.
func TestBackendIronicStoppedThenBack(t *testing.T) {
	east, west := twoIronics(t)
	eastNodes := enroll(t, east, ironic.Mix{Adoptable: 2})
	westNodes := enroll(t, west, ironic.Mix{Adoptable: 2})
	// east's calls give up after 10 s rather than the host's 60.
	h := startHost(t, backendsConfig(t, east.URL, west.URL, "call_timeout = 10\n"))
	list := h.URL + "/v1/manageable_servers"
	eastPlugin, westPlugin := h.backendPID(t, "east"), h.backendPID(t, "west")
	if n := len(listPage(t, list).Nodes); n != 4 {
		t.Fatalf("listing before the outage: %d nodes, want 4", n)
	}

	signalGroup(t, east.PID, syscall.SIGSTOP)

	t.Run("every backend: 503 naming east", func(t *testing.T) {
		code, body := status(t, list)
		fs := bodyFaultString(t, body)
		if code != http.StatusServiceUnavailable || !strings.Contains(fs, `backend "east"`) || strings.Contains(fs, `backend "west"`) {
			t.Errorf("listing with east's Ironic stopped: %d %s; want 503 naming east alone", code, fs)
		}
	})
	t.Run("?backend=west: 200", func(t *testing.T) {
		start := time.Now()
		got := byBackend(listPage(t, list+"?backend=west").Nodes)
		if diff := cmp.Diff(map[string][]string{"west": uuidsOf(westNodes)}, got); diff != "" {
			t.Errorf("west's listing (-want +got):\n%s", diff)
		}
		// Well within east's call_timeout: never waiting for east.
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("west's listing took %s while east's Ironic was stopped", took)
		}
	})
	t.Run("adoptions and unmanage on west", func(t *testing.T) {
		for name, tc := range map[string]struct{ node, backend string }{
			// east cannot be asked: logged, and the node found on west
			// is adopted.
			"found": {westNodes[0].UUID, ""},
			"named": {westNodes[1].UUID, "west"},
		} {
			t.Run(name, func(t *testing.T) {
				code, body := post(t, list, adoptBody("w", tc.node, tc.backend))
				if code != http.StatusCreated {
					t.Fatalf("adopt %s from west: %d %s", tc.node, code, body)
				}
				srv := serverUUID(t, body)
				if got := ironicNode(t, west.URL, tc.node)["instance_uuid"]; got != srv {
					t.Errorf("west's instance_uuid %v; want %s", got, srv)
				}
				if code, body := post(t, h.URL+"/v1/servers/"+srv+"/unmanage", ""); code != http.StatusNoContent {
					t.Fatalf("unmanage %s on west: %d %s", srv, code, body)
				}
				if got := ironicNode(t, west.URL, tc.node)["instance_uuid"]; got != nil {
					t.Errorf("west's instance_uuid %v after unmanage; want null", got)
				}
			})
		}
		if !hasLineWithAll(h.logs.String(), `others could not be asked`, `backend=west`, `east`) {
			t.Error("the host did not log that east could not be asked during the adoption found on west")
		}
	})
	t.Run("/readyz: 200 naming east", func(t *testing.T) {
		eventually(t, time.Minute, func() string {
			code, rb, body := readyz(t, h.URL)
			switch {
			case code != http.StatusOK:
				t.Fatalf("/readyz = %d %s; want 200 while west is up", code, body)
			case !contains(rb.Down, "driver_backend.east"):
				return "/readyz does not name driver_backend.east: " + body
			}
			for _, d := range rb.Down {
				if strings.HasSuffix(d, ".west") || strings.HasSuffix(d, ".idle") {
					t.Errorf("/readyz names %s down: %s", d, body)
				}
			}
			return ""
		})
	})
	t.Run("GET /v1/backends: east down", func(t *testing.T) {
		for _, b := range backendsOf(t, h.URL) {
			wantStatus := "up"
			if b.Name == "east" {
				wantStatus = "down"
			}
			if b.Status != wantStatus || (wantStatus == "down") != (b.Reason != nil) {
				t.Errorf("backend %s: status %q reason %q; want %s", b.Name, b.Status, deref(b.Reason), wantStatus)
			}
		}
	})

	signalGroup(t, east.PID, syscall.SIGCONT)

	t.Run("back", func(t *testing.T) {
		waitStatus(t, list, http.StatusOK, []int{http.StatusServiceUnavailable, http.StatusGatewayTimeout}, 2*time.Minute)
		if diff := cmp.Diff(uuidsOf(eastNodes), byBackend(listPage(t, list).Nodes)["east"]); diff != "" {
			t.Errorf("east's nodes once back (-want +got):\n%s", diff)
		}
		code, body := post(t, list, adoptBody("e", eastNodes[0].UUID, ""))
		if code != http.StatusCreated {
			t.Fatalf("adopt from east once back: %d %s", code, body)
		}
		waitReady(t, h.URL)
		eventually(t, time.Minute, func() string {
			if _, rb, body := readyz(t, h.URL); len(rb.Down) > 0 {
				return "/readyz still names checks down: " + body
			}
			return ""
		})
		eventually(t, time.Minute, func() string {
			if got := backendStatuses(t, h.URL); !cmp.Equal(got, map[string]string{"east": "up", "idle": "up", "west": "up"}) {
				return fmt.Sprintf("GET /v1/backends: %v", got)
			}
			return ""
		})
		select {
		case <-h.done:
			t.Fatal("the host exited")
		default:
		}
		if e, w := h.backendPID(t, "east"), h.backendPID(t, "west"); e != eastPlugin || w != westPlugin {
			t.Errorf("plugin pids east %d -> %d, west %d -> %d: a stopped Ironic restarted a plugin", eastPlugin, e, westPlugin, w)
		}
	})
}

// testBackendsHost is a host of two backends of the misbehaving test
// driver, east and west, each told what to do by its own control file;
// westExtra goes in [west].
func testBackendsHost(t *testing.T, westExtra string) (h *host, eastControl, westControl string) {
	t.Helper()
	dir := t.TempDir()
	eastControl, westControl = filepath.Join(dir, "east.json"), filepath.Join(dir, "west.json")
	writeFile(t, eastControl, `{}`)
	writeFile(t, westControl, `{}`)
	conf := hostConfig(t, "", fmt.Sprintf("\n[east]\ndriver = test\ncontrol_file = %s\n\n[west]\ndriver = test\ncontrol_file = %s\n%s",
		eastControl, westControl, westExtra))
	conf = strings.Replace(conf, "[DEFAULT]\n", "[DEFAULT]\nenabled_backends = east, west\n", 1)
	return startHost(t, conf), eastControl, westControl
}

// testNode is the test driver's node i.
func testNode(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012x", i) }

// call is one request's outcome and how long it took.
type call struct {
	code int
	body string
	took time.Duration
}

// statusOf GETs url and returns the status and body, or 0 and the error:
// for a goroutine other than the test's, which may not stop the test.
func statusOf(ctx context.Context, url string) (int, string) {
	resp, err := get(ctx, url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(b)
}

func timed(f func() (int, string)) call {
	start := time.Now()
	code, body := f()
	return call{code, body, time.Since(start)}
}

// healthyRound is a listing, an adoption and an unmanage on east; each
// must succeed within limit.
func healthyRound(t *testing.T, h *host, limit time.Duration) {
	t.Helper()
	steps := []struct {
		name string
		want int
		do   func() (int, string)
	}{
		{"list east", http.StatusOK, func() (int, string) { return status(t, h.URL+"/v1/manageable_servers?backend=east") }},
		{"adopt on east", http.StatusCreated, func() (int, string) {
			return post(t, h.URL+"/v1/manageable_servers", adoptBody("e", testNode(1), "east"))
		}},
	}
	var server string
	for _, s := range steps {
		c := timed(s.do)
		if c.code != s.want {
			t.Fatalf("%s: %d %s; want %d", s.name, c.code, c.body, s.want)
		}
		if c.took > limit {
			t.Errorf("%s took %s, more than %s: delayed by the sick backend", s.name, c.took, limit)
		}
		if s.want == http.StatusCreated {
			server = serverUUID(t, c.body)
		}
	}
	c := timed(func() (int, string) { return post(t, h.URL+"/v1/servers/"+server+"/unmanage", "") })
	if c.code != http.StatusNoContent || c.took > limit {
		t.Fatalf("unmanage on east: %d %s after %s; want 204 within %s", c.code, c.body, c.took, limit)
	}
}

// TestBackendPluginFailureIsolated makes west's plugin crash or hang, in
// four ways, while east is healthy: west's calls fail and its plugin is
// restarted (a driver merely slow in a call is kept); east's calls all
// succeed, and those made while a west call hangs answer well within
// west's call_timeout, before that call has ended: never delayed by it.
func TestBackendPluginFailureIsolated(t *testing.T) {
	const sickTimeout = 15 * time.Second
	// What a healthy call may take on a loaded machine, far below the
	// sick backend's call_timeout plus ping timeout.
	const healthyLimit = sickTimeout / 3
	for name, tc := range map[string]struct {
		control     string // west's control file while it is sick
		signal      syscall.Signal
		hangs       bool // west's call lasts until its call_timeout
		wantRestart bool
	}{
		"plugin SIGKILLed":         {signal: syscall.SIGKILL, wantRestart: true},
		"plugin panics in a call":  {control: `{"list": "panic"}`, wantRestart: true},
		"plugin hung (SIGSTOP)":    {signal: syscall.SIGSTOP, hangs: true, wantRestart: true},
		"driver hangs in its call": {control: `{"list": "hang"}`, hangs: true},
	} {
		t.Run(name, func(t *testing.T) {
			h, _, westControl := testBackendsHost(t, fmt.Sprintf("call_timeout = %d\n", int(sickTimeout.Seconds())))
			westList := h.URL + "/v1/manageable_servers?backend=west"
			eastPlugin, westPlugin := h.backendPID(t, "east"), h.backendPID(t, "west")
			healthyRound(t, h, healthyLimit)
			if code, body := status(t, westList); code != http.StatusOK {
				t.Fatalf("west before: %d %s", code, body)
			}

			if tc.control != "" {
				writeFile(t, westControl, tc.control)
			}
			switch tc.signal {
			case syscall.SIGKILL:
				if err := syscall.Kill(westPlugin, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				waitGone(t, westPlugin, 10*time.Second)
			case syscall.SIGSTOP:
				stopProcess(t, westPlugin)
				t.Cleanup(func() { _ = syscall.Kill(westPlugin, syscall.SIGKILL) })
			}
			sick := make(chan call, 1)
			go func() { sick <- timed(func() (int, string) { return statusOf(t.Context(), westList) }) }()

			// East, while west's call is under way: rounds for 3 s (a
			// hung call lasts at least sickTimeout), each within
			// healthyLimit.
			rounds := 0
			for start := time.Now(); time.Since(start) < 3*time.Second; rounds++ {
				healthyRound(t, h, healthyLimit)
				time.Sleep(100 * time.Millisecond)
			}
			var west call
			if tc.hangs {
				select {
				case west = <-sick:
					t.Fatalf("west's hung call ended (%d after %s) before east's %d rounds did: east's calls were not made while it hung",
						west.code, west.took, rounds)
				default:
				}
			}
			west = <-sick
			t.Logf("west's call: %d after %s; meanwhile %d rounds on east", west.code, west.took, rounds)
			if tc.hangs || tc.signal == 0 {
				// A crash in the call, or a hang: that call fails.
				if west.code != http.StatusServiceUnavailable && west.code != http.StatusGatewayTimeout {
					t.Errorf("west's call: %d %s; want 503 or 504", west.code, west.body)
				}
			} else if west.code != http.StatusOK && west.code != http.StatusServiceUnavailable {
				// Killed before the call: restarted by it, or 503.
				t.Errorf("west's call after its plugin was killed: %d %s; want 200 or 503", west.code, west.body)
			}

			writeFile(t, westControl, `{}`)
			waitStatus(t, westList, http.StatusOK, []int{http.StatusServiceUnavailable, http.StatusGatewayTimeout}, time.Minute)
			if got := h.backendPID(t, "west"); (got != westPlugin) != tc.wantRestart {
				t.Errorf("west's plugin pid %d -> %d; want restarted %v", westPlugin, got, tc.wantRestart)
			}
			if got := h.backendPID(t, "east"); got != eastPlugin {
				t.Errorf("east's plugin pid %d -> %d: restarted for west's failure", eastPlugin, got)
			}
			healthyRound(t, h, healthyLimit)
		})
	}
}
