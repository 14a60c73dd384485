package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/api"
	"github.com/mogan-manage/mogan-manage/host/internal/auth"
	"github.com/mogan-manage/mogan-manage/host/internal/health"
	"github.com/mogan-manage/mogan-manage/host/internal/metrics"
)

func newObservedHarness(t *testing.T, serveMetrics bool, checker *health.Checker) (*harness, *metrics.Metrics) {
	t.Helper()
	authn, err := auth.New(t.Context(), auth.Config{Strategy: "noauth"}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	h := newHarnessWithAuth(t, adoptableDriver(), authn, func(c *api.Config) {
		c.Metrics, c.ServeMetrics, c.Health = m, serveMetrics, checker
	})
	return h, m
}

// Requests are counted by route template, never by raw path: two server
// uuids are one series, and paths no route knows are one "unmatched".
func TestMetricsLabelRoutesByTemplate(t *testing.T) {
	h, _ := newObservedHarness(t, true, nil)
	for _, path := range []string{
		"/v1/servers/6f4e6c83-7a0b-4d8e-9c55-2e7c1c7e8d11", "/v1/servers/0b0e5f7c-5a55-4d2b-8f8e-0e7c7f2a7c11",
		"/no/such/path", "/another/unknown",
	} {
		h.get(t, path)
	}
	h.do(t, "BREW", "/v1/servers", "", nil)
	body := string(h.get(t, "/metrics").body)
	for _, want := range []string{
		`mogan_http_requests_total{code="404",method="GET",route="/v1/servers/{uuid}"} 2`,
		`mogan_http_requests_total{code="404",method="GET",route="unmatched"} 2`,
		`mogan_http_requests_total{code="405",method="OTHER",route="unmatched"} 1`,
		`mogan_http_request_duration_seconds_count{method="GET",route="/v1/servers/{uuid}"} 2`,
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "6f4e6c83") || strings.Contains(body, "/no/such/path") {
		t.Errorf("/metrics carries a raw path:\n%s", body)
	}
}

// With ServeMetrics off (metrics_enabled = false, or a metrics_port of its
// own) the API's port has no /metrics.
func TestNoMetricsOnTheAPIPort(t *testing.T) {
	h, _ := newObservedHarness(t, false, nil)
	if r := h.get(t, "/metrics"); r.status != http.StatusNotFound {
		t.Errorf("GET /metrics = %d, want 404", r.status)
	}
}

func readyReport(t *testing.T, r response) health.Report {
	t.Helper()
	var rep health.Report
	if err := json.Unmarshal(r.body, &rep); err != nil {
		t.Fatalf("/readyz body %q: %v", r.body, err)
	}
	return rep
}

// While the repair pass runs, health, readiness, metrics and the version
// documents answer, the API's routes are 503; afterwards the checks
// decide /readyz.
func TestStartingAndReady(t *testing.T) {
	backend := errors.New("Ironic at http://127.0.0.1:6385 is unavailable: connection refused")
	var ironicDown, glanceDown bool
	checker := health.New(0,
		health.Check{Name: "store", Critical: true, Run: func(context.Context) error { return nil }},
		health.Check{Name: "driver_backend", Critical: true, Run: func(context.Context) error {
			if ironicDown {
				return backend
			}
			return nil
		}},
		health.Check{Name: "glance", Run: func(context.Context) error {
			if glanceDown {
				return errors.New("Glance is unavailable")
			}
			return nil
		}},
	)
	h, _ := newObservedHarness(t, true, checker)

	starting := map[string]int{
		"/healthz": 200, "/readyz": 503, "/metrics": 200, "/": 200, "/v1": 200,
		"/v1/servers": 503, "/v1/manageable_servers": 503,
	}
	for path, want := range starting {
		r := h.get(t, path)
		if r.status != want {
			t.Errorf("starting: GET %s = %d, want %d", path, r.status, want)
		}
		if want == 503 && path != "/readyz" {
			if r.header.Get("Retry-After") == "" || !strings.Contains(faultString(t, r), "repair pass") {
				t.Errorf("starting: GET %s: Retry-After %q, body %s", path, r.header.Get("Retry-After"), r.body)
			}
		}
	}
	if rep := readyReport(t, h.get(t, "/readyz")); rep.Message != "starting: repair pass in progress" {
		t.Errorf("starting: /readyz says %+v", rep)
	}

	checker.Started()
	cases := []struct {
		name                   string
		ironicDown, glanceDown bool
		status                 int
		down                   []string
		message                string
	}{
		{name: "all up", status: 200},
		{name: "glance down stays ready", glanceDown: true, status: 200, down: []string{"glance"}},
		{name: "ironic down", ironicDown: true, status: 503, down: []string{"driver_backend"}, message: "not ready: down: driver_backend"},
		{name: "back up", status: 200},
	}
	for _, tc := range cases {
		ironicDown, glanceDown = tc.ironicDown, tc.glanceDown
		r := h.get(t, "/readyz")
		rep := readyReport(t, r)
		if r.status != tc.status || !cmp.Equal(rep.Down, tc.down) || rep.Message != tc.message {
			t.Errorf("%s: /readyz = %d %+v, want %d down %v message %q", tc.name, r.status, rep, tc.status, tc.down, tc.message)
		}
		if tc.ironicDown && rep.Checks["driver_backend"].Message != backend.Error() {
			t.Errorf("%s: driver_backend says %q, want %q", tc.name, rep.Checks["driver_backend"].Message, backend)
		}
	}
	if r := h.get(t, "/v1/servers"); r.status != http.StatusOK {
		t.Errorf("started: GET /v1/servers = %d, want 200", r.status)
	}
}
