package pluginmanager

import (
	"slices"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// BenchmarkRoundTrip measures one GetInfo call to the noop plugin through
// the manager: acquire, deadline, gRPC over the Unix socket with mTLS, and
// back. It reports the median as p50-µs (goal: at most 500).
func BenchmarkRoundTrip(b *testing.B) {
	m, err := New(Config{Name: "noop", PluginDir: pluginDir(b, "noop")})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Stop()
	if err := m.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	d := m.Driver()
	times := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		if _, err := d.Info(b.Context()); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkStream measures nodes per second streamed from the test driver
// through the manager, 10,000 nodes (with ports and portgroups) per
// listing.
func BenchmarkStream(b *testing.B) {
	const nodes = 10000
	m, _, _ := setup(b, `{"count": 10000}`, 0)
	d := m.Driver()
	total := 0
	start := time.Now()
	for b.Loop() {
		err := d.ListManageableNodes(b.Context(), driver.ListOptions{IncludeUnmanageable: true}, func(driver.Node) error {
			total++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if total != b.N*nodes {
		b.Fatalf("streamed %d nodes in %d listings of %d", total, b.N, nodes)
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "nodes/s")
}
