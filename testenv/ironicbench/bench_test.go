package ironicbench

import (
	"net/http"
	"testing"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/ironicdriver"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// BenchmarkList compares the driver's listing with the best direct fetch
// of the same data: the same three filtered, field-limited queries, run
// concurrently with plain net/http, decoding only what paging needs. The
// ratio driver/direct is what the driver adds to Ironic's own time.
func BenchmarkList(b *testing.B) {
	b.Run("driver", func(b *testing.B) {
		d := ironicdriver.New(nil)
		if err := d.Configure(b.Context(), map[string]string{"url": env.ironic.URL}); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			n := 0
			if err := d.(driver.Discoverer).ListManageableNodes(b.Context(), driver.ListOptions{}, func(driver.Node) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			if n != env.nodes {
				b.Fatalf("listed %d nodes, want %d", n, env.nodes)
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
		for b.Loop() {
			counts, err := RawFetch(b.Context(), hc, env.ironic.URL, ironicMaxLimit)
			if err != nil {
				b.Fatal(err)
			}
			if counts["nodes"] != env.nodes {
				b.Fatalf("fetched %d nodes, want %d", counts["nodes"], env.nodes)
			}
		}
	})
}
