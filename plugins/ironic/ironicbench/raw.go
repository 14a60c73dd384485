package ironicbench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/ironicdriver"
)

// RawQueries are the three filtered, field-limited queries a listing of
// adoptable nodes needs, by Ironic resource: the same filters and fields
// the driver asks for, ports and portgroups sorted by node.
var RawQueries = map[string]string{
	"nodes":      "provision_state=active&associated=false&maintenance=false&fields=uuid,name,resource_class,power_state,provision_state,instance_uuid,maintenance,instance_info",
	"ports":      "sort_key=node_id&fields=uuid,address,node_uuid,extra,internal_info",
	"portgroups": "sort_key=node_id&fields=uuid,address,node_uuid,mode,extra,internal_info",
}

// RawFetch is the best direct fetch of what a listing of adoptable nodes
// needs, the yardstick the driver and the host are measured against: the
// three RawQueries run concurrently with plain net/http, pages of
// pageSize, decoding only what paging needs. It returns how many items of
// each resource it read.
func RawFetch(ctx context.Context, hc *http.Client, ironicURL string, pageSize int) (map[string]int, error) {
	counts := map[string]int{}
	type result struct {
		resource string
		n        int
	}
	results := make(chan result, len(RawQueries))
	g, ctx := errgroup.WithContext(ctx)
	for resource, query := range RawQueries {
		g.Go(func() error {
			n, err := fetchAll(ctx, hc, ironicURL, resource, query, pageSize)
			results <- result{resource, n}
			return err
		})
	}
	err := g.Wait()
	close(results)
	for r := range results {
		counts[r.resource] = r.n
	}
	return counts, err
}

// fetchAll reads every page of one resource and counts its items.
func fetchAll(ctx context.Context, hc *http.Client, ironicURL, resource, query string, pageSize int) (int, error) {
	marker := ""
	total := 0
	for {
		q := fmt.Sprintf("%s&limit=%d", query, pageSize)
		if marker != "" {
			q += "&marker=" + url.QueryEscape(marker)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ironicURL+"/v1/"+resource+"?"+q, nil)
		if err != nil {
			return total, err
		}
		req.Header.Set("X-OpenStack-Ironic-API-Version", ironicdriver.DefaultAPIVersion)
		resp, err := hc.Do(req)
		if err != nil {
			return total, err
		}
		var page map[string]json.RawMessage
		err = json.NewDecoder(resp.Body).Decode(&page)
		_ = resp.Body.Close()
		if err != nil {
			return total, err
		}
		if resp.StatusCode != http.StatusOK {
			return total, fmt.Errorf("%s: %s", resource, resp.Status)
		}
		var items []struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal(page[resource], &items); err != nil {
			return total, err
		}
		total += len(items)
		if _, more := page["next"]; !more || len(items) == 0 {
			return total, nil
		}
		marker = items[len(items)-1].UUID
	}
}
