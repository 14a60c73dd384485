package health_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/host/internal/health"
)

func up(context.Context) error { return nil }

func down(msg string) func(context.Context) error {
	return func(context.Context) error { return errors.New(msg) }
}

func unknown(context.Context) error { return fmt.Errorf("%w: no CheckBackend", health.ErrUnknown) }

// hangs ignores its context: the checker's deadline still ends it.
func hangs(ctx context.Context) error { select {} }

func TestReport(t *testing.T) {
	cases := map[string]struct {
		checks  []health.Check
		started bool
		want    health.Report
	}{
		"starting": {
			checks: []health.Check{{Name: "store", Critical: true, Run: up}},
			want:   health.Report{Status: "starting", Message: "starting: repair pass in progress"},
		},
		"all up": {
			started: true,
			checks:  []health.Check{{Name: "store", Critical: true, Run: up}, {Name: "glance", Run: up}},
			want: health.Report{Status: "ready", Checks: map[string]health.Result{
				"store": {Status: "ok", Critical: true}, "glance": {Status: "ok"},
			}},
		},
		"unknown counts as up": {
			started: true,
			checks:  []health.Check{{Name: "ironic", Critical: true, Run: unknown}},
			want: health.Report{Status: "ready", Checks: map[string]health.Result{
				"ironic": {Status: "unknown", Critical: true, Message: "unknown: no CheckBackend"},
			}},
		},
		"one backend down of two keeps it ready": {
			started: true,
			checks: []health.Check{
				{Name: "driver.east", Group: "backends", Member: "east", Run: up},
				{Name: "driver_backend.east", Group: "backends", Member: "east", Run: down("Ironic east is unavailable")},
				{Name: "driver.west", Group: "backends", Member: "west", Run: up},
				{Name: "driver_backend.west", Group: "backends", Member: "west", Run: unknown},
			},
			want: health.Report{Status: "degraded", Down: []string{"driver_backend.east"}, Checks: map[string]health.Result{
				"driver.east": {Status: "ok"}, "driver_backend.east": {Status: "down", Message: "Ironic east is unavailable"},
				"driver.west": {Status: "ok"}, "driver_backend.west": {Status: "unknown", Message: "unknown: no CheckBackend"},
			}},
		},
		"every backend down": {
			started: true,
			checks: []health.Check{
				{Name: "driver.east", Group: "backends", Member: "east", Run: down("plugin gone")},
				{Name: "driver_backend.east", Group: "backends", Member: "east", Run: up},
				{Name: "driver.west", Group: "backends", Member: "west", Run: up},
				{Name: "driver_backend.west", Group: "backends", Member: "west", Run: down("Ironic west is unavailable")},
			},
			want: health.Report{Status: "not ready", Message: "not ready: down: every one of backends",
				Down: []string{"driver.east", "driver_backend.west"}, Checks: map[string]health.Result{
					"driver.east": {Status: "down", Message: "plugin gone"}, "driver_backend.east": {Status: "ok"},
					"driver.west": {Status: "ok"}, "driver_backend.west": {Status: "down", Message: "Ironic west is unavailable"},
				}},
		},
		"glance down keeps it ready": {
			started: true,
			checks:  []health.Check{{Name: "store", Critical: true, Run: up}, {Name: "glance", Run: down("Glance at http://u:p@g is unavailable")}},
			want: health.Report{Status: "degraded", Down: []string{"glance"}, Checks: map[string]health.Result{
				"store": {Status: "ok", Critical: true}, "glance": {Status: "down", Message: "Glance at http://g is unavailable"},
			}},
		},
		"critical down": {
			started: true,
			checks: []health.Check{
				{Name: "store", Critical: true, Run: up}, {Name: "ironic", Critical: true, Run: down("Ironic is unavailable")},
				{Name: "driver", Critical: true, Run: hangs}, {Name: "neutron", Run: down("refused")},
			},
			want: health.Report{Status: "not ready", Message: "not ready: down: ironic, driver", Down: []string{"ironic", "driver", "neutron"},
				Checks: map[string]health.Result{
					"store":   {Status: "ok", Critical: true},
					"ironic":  {Status: "down", Critical: true, Message: "Ironic is unavailable"},
					"driver":  {Status: "down", Critical: true, Message: "no answer within 50ms"},
					"neutron": {Status: "down", Message: "refused"},
				}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := health.New(50_000_000, tc.checks...)
			if tc.started {
				c.Started()
			}
			got := c.Check(t.Context())
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
			if wantReady := tc.want.Status == "ready" || tc.want.Status == "degraded"; got.Ready() != wantReady {
				t.Errorf("Ready() = %v, want %v", got.Ready(), wantReady)
			}
		})
	}
}
