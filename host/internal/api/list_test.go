package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/host/internal/pluginmanager"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

type listBody struct {
	Servers []map[string]any `json:"manageable_servers"`
	Links   []struct {
		Href string `json:"href"`
		Rel  string `json:"rel"`
	} `json:"manageable_servers_links"`
}

// pagedDriver serves n nodes in UUID order honouring the list options.
func pagedDriver(n int) *drivertest.FuncDriver {
	return &drivertest.FuncDriver{
		ListFunc: func(_ context.Context, opts driver.ListOptions, send func(driver.Node) error) error {
			sent := 0
			for i := range n {
				node := sampleNode(fmt.Sprintf("00000000-0000-0000-0000-%012d", i))
				if i%2 == 1 {
					node.Manageable, node.Reason = false, "node is in maintenance"
					if !opts.IncludeUnmanageable {
						continue
					}
				}
				if opts.Marker != "" && node.UUID <= opts.Marker {
					continue
				}
				if opts.Limit > 0 && sent == opts.Limit {
					return nil
				}
				if err := send(node); err != nil {
					return err
				}
				sent++
			}
			return nil
		},
	}
}

func TestManageableServersPagination(t *testing.T) {
	h := newHarness(t, pagedDriver(10)) // 5 manageable
	var seen []string
	path := "/v1/manageable_servers?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		r := h.get(t, path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		var body listBody
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		for _, s := range body.Servers {
			seen = append(seen, s["uuid"].(string))
			if _, ok := s["manageable"]; ok {
				t.Errorf("manageable shown without all=true: %v", s)
			}
		}
		path = ""
		if len(body.Links) > 0 {
			u, err := url.Parse(body.Links[0].Href)
			if err != nil || body.Links[0].Rel != "next" {
				t.Fatalf("bad next link %+v", body.Links)
			}
			path = u.RequestURI()
		}
	}
	want := []string{
		"00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000002",
		"00000000-0000-0000-0000-000000000004", "00000000-0000-0000-0000-000000000006",
		"00000000-0000-0000-0000-000000000008",
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

func TestManageableServersAll(t *testing.T) {
	h := newHarness(t, pagedDriver(2))
	r := h.get(t, "/v1/manageable_servers?all=true")
	var body listBody
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Servers) != 2 {
		t.Fatalf("got %d nodes; want 2", len(body.Servers))
	}
	if body.Servers[0]["manageable"] != true || body.Servers[0]["reason"] != nil {
		t.Errorf("manageable node shown as %v", body.Servers[0])
	}
	if body.Servers[1]["manageable"] != false || body.Servers[1]["reason"] != "node is in maintenance" {
		t.Errorf("unmanageable node shown as %v", body.Servers[1])
	}
}

func TestManageableServersBadQuery(t *testing.T) {
	tests := map[string]string{
		"limit not a number":  "limit=ten",
		"limit zero":          "limit=0",
		"limit negative":      "limit=-1",
		"limit huge":          "limit=100000000000000000000",
		"marker not a uuid":   "marker=abc",
		"all not a boolean":   "all=maybe",
		"long resource class": "resource_class=" + strings.Repeat("x", 256),
	}
	for name, query := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, pagedDriver(2))
			r := h.get(t, "/v1/manageable_servers?"+query)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d; want 400 (%s)", r.status, r.body)
			}
			faultString(t, r)
			if h.driver.Calls() != 0 {
				t.Error("the driver was called for a refused query")
			}
		})
	}
}

// TestDriverErrorsMapToHTTP: each kind of driver failure before the first
// node becomes its status, in the error format.
func TestDriverErrorsMapToHTTP(t *testing.T) {
	tests := map[string]struct {
		err  error
		want int
	}{
		"not implemented": {driver.NotImplemented("listing"), http.StatusNotImplemented},
		"unavailable":     {driver.Unavailable("Ironic at http://x is unreachable"), http.StatusServiceUnavailable},
		"plugin crashed":  {fmt.Errorf("driver noop: %w", pluginmanager.ErrDriverUnavailable), http.StatusServiceUnavailable},
		"backing off":     {&pluginmanager.BackoffError{Wait: 1500_000_000}, http.StatusServiceUnavailable},
		"deadline":        {fmt.Errorf("driver call: %w", context.DeadlineExceeded), http.StatusGatewayTimeout},
		"invalid":         {driver.InvalidArgument("bad filter"), http.StatusBadRequest},
		"unknown error":   {fmt.Errorf("something odd"), http.StatusInternalServerError},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, &drivertest.FuncDriver{
				ListFunc: func(context.Context, driver.ListOptions, func(driver.Node) error) error { return tc.err },
			})
			r := h.get(t, "/v1/manageable_servers")
			if r.status != tc.want {
				t.Fatalf("status %d; want %d (%s)", r.status, tc.want, r.body)
			}
			msg := faultString(t, r)
			if tc.want == http.StatusInternalServerError && strings.Contains(msg, "something odd") {
				t.Errorf("a 500 leaks the internal error: %q", msg)
			}
			if name == "backing off" && r.header.Get("Retry-After") != "2" {
				t.Errorf("Retry-After = %q; want 2", r.header.Get("Retry-After"))
			}
		})
	}
}

// TestListFailureMidStreamCutsTheResponse: once nodes were sent, a failure
// must not look like a complete listing.
func TestListFailureMidStreamCutsTheResponse(t *testing.T) {
	h := newHarness(t, &drivertest.FuncDriver{
		ListFunc: func(_ context.Context, _ driver.ListOptions, send func(driver.Node) error) error {
			for i := range 3000 {
				if err := send(sampleNode(fmt.Sprintf("00000000-0000-0000-0000-%012d", i))); err != nil {
					return err
				}
			}
			return fmt.Errorf("plugin died: %w", pluginmanager.ErrDriverUnavailable)
		},
	})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, h.url+"/v1/manageable_servers", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body listBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err == nil {
		t.Fatalf("a cut listing decoded as complete JSON with %d nodes", len(body.Servers))
	}
}

func TestVersionsAndRouting(t *testing.T) {
	h := newHarness(t, adoptableDriver())
	root := h.get(t, "/")
	if root.status != http.StatusOK {
		t.Fatalf("GET /: %d", root.status)
	}
	doc := decodeObject(t, root.body)
	if doc["name"] != "OpenStack Mogan API" {
		t.Errorf("name = %v", doc["name"])
	}
	def, _ := doc["default_version"].(map[string]any)
	if def["id"] != "v1" {
		t.Errorf("default_version = %v", def)
	}
	v1 := h.get(t, "/v1")
	if v1.status != http.StatusOK || decodeObject(t, v1.body)["id"] != "v1" {
		t.Errorf("GET /v1: %d %s", v1.status, v1.body)
	}
	for _, r := range []response{root, v1, h.get(t, "/healthz")} {
		if !strings.HasPrefix(r.header.Get("X-Openstack-Request-Id"), "req-") {
			t.Errorf("missing request id: %v", r.header)
		}
	}
	if r := h.get(t, "/v2/things"); r.status != http.StatusNotFound {
		t.Errorf("unknown route: %d", r.status)
	} else {
		faultString(t, r)
	}
	if r := h.do(t, http.MethodDelete, "/v1/manageable_servers", "", nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE manageable_servers: %d; want 405", r.status)
	} else {
		faultString(t, r)
	}
}
