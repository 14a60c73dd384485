package ironicbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"
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
	return rawFetch(ctx, hc, ironicURL, pageSize, nil)
}

// Lookups are the Glance and Neutron endpoints (without the API version)
// RawFetchEnriched asks.
type Lookups struct {
	GlanceURL, NeutronURL string
}

// lookupBatch is how many ids one Glance or Neutron request carries, as
// the host's clients send them.
const lookupBatch = 50

// RawFetchEnriched is RawFetch that also makes the host's batched
// lookups: each node page's image_source ids in Glance
// (GET /v2/images?id=in:…, 50 a request) and each port and portgroup
// page's VIFs in Neutron (GET /v2.0/ports?id=…&id=…, 50 a request) — the
// same requests, as many, as a listing through mogan-api with [glance]
// and [neutron] configured makes. It also returns how many lookups it
// made ("glance", "neutron").
func RawFetchEnriched(ctx context.Context, hc *http.Client, ironicURL string, pageSize int, l Lookups) (map[string]int, error) {
	return rawFetch(ctx, hc, ironicURL, pageSize, &l)
}

func rawFetch(ctx context.Context, hc *http.Client, ironicURL string, pageSize int, l *Lookups) (map[string]int, error) {
	counts := map[string]int{}
	type result struct {
		resource      string
		n, lookups    int
		lookupService string
	}
	results := make(chan result, len(RawQueries))
	g, ctx := errgroup.WithContext(ctx)
	for resource, query := range RawQueries {
		g.Go(func() error {
			var lookups int
			var onPage func(context.Context, json.RawMessage) error
			service := "neutron"
			if resource == "nodes" {
				service = "glance"
			}
			if l != nil {
				onPage = func(ctx context.Context, items json.RawMessage) error {
					n, err := lookUp(ctx, hc, resource, items, *l)
					lookups += n
					return err
				}
			}
			n, err := fetchAll(ctx, hc, ironicURL, resource, query, pageSize, onPage)
			results <- result{resource, n, lookups, service}
			return err
		})
	}
	err := g.Wait()
	close(results)
	for r := range results {
		counts[r.resource] = r.n
		if l != nil {
			counts[r.lookupService] += r.lookups
		}
	}
	return counts, err
}

// lookUp makes the lookups of one page of resource: its nodes' images or
// its ports' or portgroups' VIFs (internal_info's, else extra's, as the
// driver reports them). It returns how many requests it made.
func lookUp(ctx context.Context, hc *http.Client, resource string, items json.RawMessage, l Lookups) (int, error) {
	var ids []string
	if resource == "nodes" {
		var nodes []struct {
			InstanceInfo struct {
				ImageSource any `json:"image_source"`
			} `json:"instance_info"`
		}
		if err := json.Unmarshal(items, &nodes); err != nil {
			return 0, err
		}
		for _, n := range nodes {
			if s, ok := n.InstanceInfo.ImageSource.(string); ok && uuid.Validate(s) == nil {
				ids = append(ids, s)
			}
		}
	} else {
		var ports []struct {
			Extra struct {
				VIF any `json:"vif_port_id"`
			} `json:"extra"`
			InternalInfo struct {
				VIF any `json:"tenant_vif_port_id"`
			} `json:"internal_info"`
		}
		if err := json.Unmarshal(items, &ports); err != nil {
			return 0, err
		}
		for _, p := range ports {
			s, ok := p.InternalInfo.VIF.(string)
			if !ok || s == "" {
				s, _ = p.Extra.VIF.(string)
			}
			if uuid.Validate(s) == nil {
				ids = append(ids, s)
			}
		}
	}
	n := 0
	for chunk := range slices.Chunk(ids, lookupBatch) {
		var target string
		if resource == "nodes" {
			target = fmt.Sprintf("%s/v2/images?id=in:%s&limit=%d&visibility=all", l.GlanceURL, strings.Join(chunk, ","), len(chunk)+1)
		} else {
			target = l.NeutronURL + "/v2.0/ports?" + url.Values{"id": chunk}.Encode()
		}
		n++
		if err := getJSON(ctx, hc, target, nil); err != nil {
			return n, err
		}
	}
	return n, nil
}

// getJSON GETs target and decodes a 200's body into out (nil: discards it).
func getJSON(ctx context.Context, hc *http.Client, target string, hdr http.Header, out ...any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", target, resp.Status)
	}
	if len(out) == 0 {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out[0])
}

// fetchAll reads every page of one resource and counts its items, calling
// onPage (when set) with each page's items.
func fetchAll(ctx context.Context, hc *http.Client, ironicURL, resource, query string, pageSize int,
	onPage func(context.Context, json.RawMessage) error,
) (int, error) {
	marker := ""
	total := 0
	hdr := http.Header{"X-OpenStack-Ironic-API-Version": {ironicdriver.DefaultAPIVersion}}
	for {
		q := fmt.Sprintf("%s&limit=%d", query, pageSize)
		if marker != "" {
			q += "&marker=" + url.QueryEscape(marker)
		}
		var page map[string]json.RawMessage
		if err := getJSON(ctx, hc, ironicURL+"/v1/"+resource+"?"+q, hdr, &page); err != nil {
			return total, err
		}
		var items []struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal(page[resource], &items); err != nil {
			return total, err
		}
		total += len(items)
		if onPage != nil {
			if err := onPage(ctx, page[resource]); err != nil {
				return total, err
			}
		}
		if _, more := page["next"]; !more || len(items) == 0 {
			return total, nil
		}
		marker = items[len(items)-1].UUID
	}
}
