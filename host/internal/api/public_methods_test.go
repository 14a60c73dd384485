package api_test

import (
	"net/http"
	"testing"
)

// TestPublicRoutesAnswerHEAD: the routes outside auth answer HEAD as GET
// without a body (a load balancer's health probe), as the metrics listener
// of its own does; a 405 names the methods the resource has in Allow.
func TestPublicRoutesAnswerHEAD(t *testing.T) {
	const server = "/v1/servers/6f4e6c83-7a0b-4d8e-9c55-2e7c1c7e8d11"
	tests := map[string]struct {
		method, path string
		wantStatus   int
		wantAllow    string
	}{
		"HEAD /healthz":          {http.MethodHead, "/healthz", 200, ""},
		"HEAD /readyz":           {http.MethodHead, "/readyz", 200, ""},
		"HEAD /metrics":          {http.MethodHead, "/metrics", 200, ""},
		"HEAD /":                 {http.MethodHead, "/", 200, ""},
		"HEAD /v1":               {http.MethodHead, "/v1", 200, ""},
		"HEAD /healthz?x=1":      {http.MethodHead, "/healthz?x=1", 400, ""}, // no route takes an unknown parameter
		"POST /healthz":          {http.MethodPost, "/healthz", 405, "GET, HEAD"},
		"DELETE /metrics":        {http.MethodDelete, "/metrics", 405, "GET, HEAD"},
		"PUT /readyz":            {http.MethodPut, "/readyz", 405, "GET, HEAD"},
		"DELETE a server":        {http.MethodDelete, server, 405, "GET"},
		"GET unmanage":           {http.MethodGet, server + "/unmanage", 405, "POST"},
		"PUT manageable_servers": {http.MethodPut, "/v1/manageable_servers", 405, "GET, POST"},
		"BREW actions":           {"BREW", server + "/actions", 405, "GET"},
		"HEAD a private route":   {http.MethodHead, "/v1/servers", 405, "GET"},
	}
	h, _ := newObservedHarness(t, true, nil)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := h.do(t, tc.method, tc.path, "", nil)
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d; want %d (%.200s)", r.status, tc.wantStatus, r.body)
			}
			if got := r.header.Get("Allow"); got != tc.wantAllow {
				t.Errorf("Allow = %q; want %q", got, tc.wantAllow)
			}
			if tc.method == http.MethodHead && len(r.body) != 0 {
				t.Errorf("HEAD answered a body of %d bytes", len(r.body))
			}
			if tc.wantStatus == http.StatusMethodNotAllowed && tc.method != http.MethodHead {
				faultString(t, r)
			}
		})
	}
}
