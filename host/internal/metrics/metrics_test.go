package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/host/internal/metrics"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// samples gathers m's counters (and histogram counts) whose name starts
// with prefix as "name{label=value,…}" → value.
func samples(t *testing.T, m *metrics.Metrics, prefix string) map[string]float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), prefix) {
			continue
		}
		for _, s := range f.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			key := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case s.GetCounter() != nil:
				out[key] = s.GetCounter().GetValue()
			case s.GetHistogram() != nil:
				out[key+"_count"] = float64(s.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestLabels(t *testing.T) {
	cases := map[string]struct {
		record func(m *metrics.Metrics)
		prefix string
		want   map[string]float64
	}{
		"http request by route template": {
			record: func(m *metrics.Metrics) { m.HTTPRequest("/v1/servers/{uuid}", "GET", 404, time.Millisecond) },
			prefix: "mogan_http_",
			want: map[string]float64{
				"mogan_http_requests_total{code=404,method=GET,route=/v1/servers/{uuid}}":        1,
				"mogan_http_request_duration_seconds{method=GET,route=/v1/servers/{uuid}}_count": 1,
			},
		},
		"a made-up method is OTHER": {
			record: func(m *metrics.Metrics) {
				m.HTTPRequest("unmatched", "BREW", 405, 0)
				m.HTTPRequest("unmatched", "XYZZY", 405, 0)
			},
			prefix: "mogan_http_requests",
			want:   map[string]float64{"mogan_http_requests_total{code=405,method=OTHER,route=unmatched}": 2},
		},
		"driver calls by outcome": {
			record: func(m *metrics.Metrics) {
				m.DriverCall("east", "Manage", nil, 0)
				m.DriverCall("east", "Manage", fmt.Errorf("wrapped: %w", driver.Conflict("taken")), 0)
				m.DriverCall("east", "GetManageableNode", driver.NotFound("gone"), 0)
				m.DriverCall("east", "GetManageableNode", driver.NotManageable("n", "maintenance"), 0)
				m.DriverCall("east", "ListManageableNodes", context.DeadlineExceeded, 0)
				m.DriverCall("east", "GetNodeStates", driver.Unavailable("ironic down"), 0)
				m.DriverCall("east", "GetNodeStates", errors.New("boom"), 0)
			},
			prefix: "mogan_driver_calls",
			want: map[string]float64{
				"mogan_driver_calls_total{backend=east,outcome=ok,rpc=Manage}":                        1,
				"mogan_driver_calls_total{backend=east,outcome=conflict,rpc=Manage}":                  1,
				"mogan_driver_calls_total{backend=east,outcome=not_found,rpc=GetManageableNode}":      1,
				"mogan_driver_calls_total{backend=east,outcome=not_manageable,rpc=GetManageableNode}": 1,
				"mogan_driver_calls_total{backend=east,outcome=timeout,rpc=ListManageableNodes}":      1,
				"mogan_driver_calls_total{backend=east,outcome=unavailable,rpc=GetNodeStates}":        1,
				"mogan_driver_calls_total{backend=east,outcome=error,rpc=GetNodeStates}":              1,
			},
		},
		"upstream without an answer is error": {
			record: func(m *metrics.Metrics) {
				m.UpstreamRequest("glance", 200, 0)
				m.UpstreamRequest("keystone", 0, 0)
			},
			prefix: "mogan_upstream_requests",
			want: map[string]float64{
				"mogan_upstream_requests_total{code=200,service=glance}":     1,
				"mogan_upstream_requests_total{code=error,service=keystone}": 1,
			},
		},
		"restarts, adoptions, recoveries": {
			record: func(m *metrics.Metrics) {
				m.PluginRestart("east", nil)
				m.PluginRestart("west", errors.New("exec format error"))
				m.Adoption("east", metrics.AdoptionAdopted)
				m.Adoption("west", metrics.AdoptionRefused)
				m.Recoveries("east", metrics.RecoveryRolledBack, 3)
				m.Recoveries("east", metrics.RecoveryLeft, 0) // nothing: no series
			},
			prefix: "mogan_",
			want: map[string]float64{
				"mogan_driver_plugin_restarts_total{backend=east,result=started}": 1,
				"mogan_driver_plugin_restarts_total{backend=west,result=failed}":  1,
				"mogan_adoptions_total{backend=east,outcome=adopted}":             1,
				"mogan_adoptions_total{backend=west,outcome=refused}":             1,
				"mogan_recoveries_total{backend=east,outcome=rolled_back}":        3,
			},
		},
		"a counter read at scrape": {
			record: func(m *metrics.Metrics) {
				m.RegisterCounterFunc("notifications_dropped_total", "dropped", func() float64 { return 7 })
			},
			prefix: "mogan_notifications",
			want:   map[string]float64{"mogan_notifications_dropped_total{}": 7},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := metrics.New()
			tc.record(m)
			if diff := cmp.Diff(tc.want, samples(t, m, tc.prefix)); diff != "" {
				t.Errorf("samples (-want +got):\n%s", diff)
			}
		})
	}
}

// A nil *Metrics records nothing and does not panic: packages and tests
// that do not count pass none.
func TestNilRecordsNothing(t *testing.T) {
	var m *metrics.Metrics
	m.HTTPRequest("/", "GET", 200, 0)
	m.DriverCall("east", "GetInfo", nil, 0)
	m.PluginRestart("east", nil)
	m.UpstreamRequest("glance", 200, 0)
	m.Adoption("east", metrics.AdoptionAdopted)
	m.Recoveries("east", metrics.RecoveryCompleted, 1)
	m.RegisterCounterFunc("x_total", "x", func() float64 { return 1 })
}

// The runtime and process collectors are registered.
func TestRuntimeCollectors(t *testing.T) {
	families, err := metrics.New().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	for _, want := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if !names[want] {
			t.Errorf("no %s among the gathered metrics", want)
		}
	}
}
