package ironicbench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/sync/errgroup"

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
		queries := map[string]string{
			"nodes":      "provision_state=active&associated=false&maintenance=false&fields=uuid,name,resource_class,power_state,provision_state,instance_uuid,maintenance,instance_info",
			"ports":      "sort_key=node_id&fields=uuid,address,node_uuid,extra,internal_info",
			"portgroups": "sort_key=node_id&fields=uuid,address,node_uuid,mode,extra,internal_info",
		}
		for b.Loop() {
			g, ctx := errgroup.WithContext(b.Context())
			for resource, query := range queries {
				g.Go(func() error { return fetchAll(ctx, hc, resource, query) })
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// fetchAll reads every page of one resource.
func fetchAll(ctx context.Context, hc *http.Client, resource, query string) error {
	marker := ""
	for {
		q := fmt.Sprintf("%s&limit=%d", query, ironicMaxLimit)
		if marker != "" {
			q += "&marker=" + url.QueryEscape(marker)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.ironic.URL+"/v1/"+resource+"?"+q, nil)
		if err != nil {
			return err
		}
		req.Header.Set("X-OpenStack-Ironic-API-Version", ironicdriver.DefaultAPIVersion)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		var page map[string]json.RawMessage
		err = json.NewDecoder(resp.Body).Decode(&page)
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", resource, resp.Status)
		}
		var items []struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal(page[resource], &items); err != nil {
			return err
		}
		if _, more := page["next"]; !more || len(items) == 0 {
			return nil
		}
		marker = items[len(items)-1].UUID
	}
}
