package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

func validBody(node string) string {
	return `{"name": "web-1", "description": "adopted", "metadata": {"rack": "r1"}, "node_uuid": "` + node + `"}`
}

func TestManageBadInput(t *testing.T) {
	long := strings.Repeat("x", 256)
	node := `"node_uuid": "` + nodeUUID + `"`
	tests := map[string]struct {
		contentType string
		body        string
		wantStatus  int
		wantText    string
	}{
		"malformed JSON":          {body: `{"name": "a",`, wantStatus: 400, wantText: "Malformed JSON"},
		"not JSON at all":         {body: `name=a`, wantStatus: 400, wantText: "Malformed JSON"},
		"empty body":              {body: ``, wantStatus: 400, wantText: "Malformed JSON"},
		"wrong content type":      {contentType: "text/plain", body: validBody(nodeUUID), wantStatus: 415, wantText: "application/json"},
		"no content type":         {contentType: "-", body: validBody(nodeUUID), wantStatus: 415, wantText: "application/json"},
		"missing name":            {body: `{` + node + `}`, wantStatus: 400, wantText: "name"},
		"missing node_uuid":       {body: `{"name": "a"}`, wantStatus: 400, wantText: "node_uuid"},
		"empty name":              {body: `{"name": "", ` + node + `}`, wantStatus: 400, wantText: "name"},
		"256-char name":           {body: `{"name": "` + long + `", ` + node + `}`, wantStatus: 400, wantText: "name"},
		"empty description":       {body: `{"name": "a", "description": "", ` + node + `}`, wantStatus: 400, wantText: "description"},
		"256-char description":    {body: `{"name": "a", "description": "` + long + `", ` + node + `}`, wantStatus: 400, wantText: "description"},
		"non-string metadata":     {body: `{"name": "a", "metadata": {"k": true}, ` + node + `}`, wantStatus: 400, wantText: "metadata.k"},
		"256-char metadata value": {body: `{"name": "a", "metadata": {"k": "` + long + `"}, ` + node + `}`, wantStatus: 400, wantText: "metadata.k"},
		"metadata key with slash": {body: `{"name": "a", "metadata": {"a/b": "v"}, ` + node + `}`, wantStatus: 400, wantText: "a/b"},
		"256-char metadata key":   {body: `{"name": "a", "metadata": {"` + long + `": "v"}, ` + node + `}`, wantStatus: 400, wantText: "metadata"},
		"extra property":          {body: `{"name": "a", "image_uuid": "x", ` + node + `}`, wantStatus: 400, wantText: "image_uuid"},
		"invalid uuid":            {body: `{"name": "a", "node_uuid": "1234"}`, wantStatus: 400, wantText: "node_uuid"},
		"null":                    {body: `null`, wantStatus: 400, wantText: "null"},
		"array":                   {body: `[{"name": "a", ` + node + `}]`, wantStatus: 400, wantText: "array"},
		"body over 1 MiB":         {body: `{"name": "` + strings.Repeat("x", 1<<20) + `", ` + node + `}`, wantStatus: 413, wantText: "limit"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, adoptableDriver(sampleNode(nodeUUID)))
			ct := tc.contentType
			switch ct {
			case "":
				ct = "application/json"
			case "-":
				ct = ""
			}
			r := h.do(t, http.MethodPost, "/v1/manageable_servers", ct, strings.NewReader(tc.body))
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d; want %d (%s)", r.status, tc.wantStatus, r.body)
			}
			if msg := faultString(t, r); !strings.Contains(msg, tc.wantText) {
				t.Errorf("faultstring %q does not contain %q", msg, tc.wantText)
			}
			if n := h.driver.Calls(); n != 0 {
				t.Errorf("the driver was called %d times for a refused request", n)
			}
			assertNothingStored(t, h)
		})
	}
}

// TestManageBodyOverLimitStreamed sends the oversized body without a
// Content-Length, so the limit is met while reading.
func TestManageBodyOverLimitStreamed(t *testing.T) {
	h := newHarness(t, adoptableDriver(sampleNode(nodeUUID)))
	body := io.MultiReader(strings.NewReader(`{"name": "`), strings.NewReader(strings.Repeat("x", 2<<20)), strings.NewReader(`"}`))
	r := h.do(t, http.MethodPost, "/v1/manageable_servers", "application/json", io.NopCloser(body))
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d; want 413 (%s)", r.status, r.body)
	}
	faultString(t, r)
	assertNothingStored(t, h)
}

func assertNothingStored(t *testing.T, h *harness) {
	t.Helper()
	servers, err := h.store.ListServers(context.WithoutCancel(t.Context()), store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != 0 {
		t.Errorf("%d servers stored; want none", len(servers))
	}
}

func TestManageDriverRefusals(t *testing.T) {
	notManageable := sampleNode(otherNode)
	notManageable.Manageable = false
	notManageable.Reason = "node is in maintenance"
	tests := map[string]struct {
		node       string
		wantStatus int
		wantText   string
	}{
		"unknown node":        {node: "11111111-2222-3333-4444-555555555555", wantStatus: 404, wantText: "could not be found"},
		"node not manageable": {node: otherNode, wantStatus: 409, wantText: "node is in maintenance"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, adoptableDriver(sampleNode(nodeUUID), notManageable))
			r := h.postJSON(t, "/v1/manageable_servers", validBody(tc.node))
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d; want %d (%s)", r.status, tc.wantStatus, r.body)
			}
			if msg := faultString(t, r); !strings.Contains(msg, tc.wantText) {
				t.Errorf("faultstring %q does not contain %q", msg, tc.wantText)
			}
			assertNothingStored(t, h)
		})
	}
}

func TestManageFailureUndoesTheClaim(t *testing.T) {
	drv := adoptableDriver(sampleNode(nodeUUID))
	drv.ManageFunc = func(context.Context, driver.ManageRequest) (driver.Node, error) {
		return driver.Node{}, driver.Conflict("node %s is associated with instance 0000", nodeUUID)
	}
	h := newHarness(t, drv)
	r := h.postJSON(t, "/v1/manageable_servers", validBody(nodeUUID))
	if r.status != http.StatusConflict {
		t.Fatalf("status = %d; want 409 (%s)", r.status, r.body)
	}
	faultString(t, r)
	assertNothingStored(t, h)
}

func TestManageTwice(t *testing.T) {
	h := newHarness(t, adoptableDriver(sampleNode(nodeUUID)))
	if r := h.postJSON(t, "/v1/manageable_servers", validBody(nodeUUID)); r.status != http.StatusCreated {
		t.Fatalf("first POST: %d %s", r.status, r.body)
	}
	r := h.postJSON(t, "/v1/manageable_servers", validBody(nodeUUID))
	if r.status != http.StatusConflict {
		t.Fatalf("second POST: status %d; want 409 (%s)", r.status, r.body)
	}
	msg := faultString(t, r)
	if !strings.Contains(msg, "already managed") {
		t.Errorf("faultstring %q does not say the node is already managed", msg)
	}
	if strings.Contains(strings.ToLower(msg), "constraint") {
		t.Errorf("faultstring %q leaks the database's error", msg)
	}
	// Byte for byte the document upstream's json.dumps writes.
	want := `{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"Node ` + nodeUUID +
		` is already managed by another server.\", \"debuginfo\": null}"}`
	if string(r.body) != want {
		t.Errorf("error body\n got %s\nwant %s", r.body, want)
	}
}

// TestManageConcurrentOneNode: 50 POSTs race for one node; the store's
// unique constraint lets exactly one through.
func TestManageConcurrentOneNode(t *testing.T) {
	h := newHarness(t, adoptableDriver(sampleNode(nodeUUID)))
	const n = 50
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = h.postJSON(t, "/v1/manageable_servers", validBody(nodeUUID)).status
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusCreated] != 1 || count[http.StatusConflict] != n-1 {
		t.Errorf("statuses = %v; want 1 × 201 and %d × 409", count, n-1)
	}
}

func TestUnmanage(t *testing.T) {
	var released []driver.ManageRequest
	drv := adoptableDriver(sampleNode(nodeUUID))
	drv.UnmanageFunc = func(_ context.Context, req driver.ManageRequest) error {
		released = append(released, req)
		return nil
	}
	h := newHarness(t, drv)
	created := decodeObject(t, h.postJSON(t, "/v1/manageable_servers", validBody(nodeUUID)).body)
	uuid, _ := created["uuid"].(string)

	r := h.do(t, http.MethodPost, "/v1/servers/"+uuid+"/unmanage", "", nil)
	if r.status != http.StatusNoContent {
		t.Fatalf("unmanage: status %d (%s)", r.status, r.body)
	}
	if len(released) != 1 || released[0].NodeUUID != nodeUUID || released[0].ServerUUID != uuid {
		t.Errorf("driver Unmanage calls = %+v; want one for node %s server %s", released, nodeUUID, uuid)
	}
	if r := h.get(t, "/v1/servers/"+uuid); r.status != http.StatusNotFound {
		t.Errorf("GET after unmanage: %d; want 404", r.status)
	}
	// The node can be adopted again.
	if r := h.postJSON(t, "/v1/manageable_servers", validBody(nodeUUID)); r.status != http.StatusCreated {
		t.Errorf("re-adopting after unmanage: %d %s", r.status, r.body)
	}
}

func TestUnknownServer(t *testing.T) {
	h := newHarness(t, adoptableDriver())
	for _, path := range []string{"/v1/servers/11111111-2222-3333-4444-555555555555", "/v1/servers/not-a-uuid"} {
		r := h.get(t, path)
		if r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d; want 404", path, r.status)
		}
		faultString(t, r)
	}
	r := h.do(t, http.MethodPost, "/v1/servers/11111111-2222-3333-4444-555555555555/unmanage", "", nil)
	if r.status != http.StatusNotFound {
		t.Errorf("unmanage unknown: %d; want 404", r.status)
	}
}

// TestManageTimeoutAfterTheDriverActedIsUndone: a Manage that fails after
// the backend took the association (a timeout) is released again, so the
// node is not left owned by a server that was never recorded.
func TestManageTimeoutAfterTheDriverActedIsUndone(t *testing.T) {
	var associated, released string
	drv := adoptableDriver(sampleNode(nodeUUID))
	drv.ManageFunc = func(_ context.Context, req driver.ManageRequest) (driver.Node, error) {
		associated = req.ServerUUID
		return driver.Node{}, fmt.Errorf("driver call: %w", context.DeadlineExceeded)
	}
	drv.UnmanageFunc = func(_ context.Context, req driver.ManageRequest) error {
		released = req.ServerUUID
		return nil
	}
	h := newHarness(t, drv)
	r := h.postJSON(t, "/v1/manageable_servers", validBody(nodeUUID))
	if r.status != http.StatusGatewayTimeout {
		t.Fatalf("status %d; want 504 (%s)", r.status, r.body)
	}
	faultString(t, r)
	if associated == "" || released != associated {
		t.Errorf("associated with %q, released %q; want the same server released", associated, released)
	}
	assertNothingStored(t, h)
}
