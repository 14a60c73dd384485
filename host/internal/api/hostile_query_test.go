package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/api"
	"github.com/mogan-manage/mogan-manage/host/internal/auth"
)

// Query strings and bodies a hostile or careless client sends to the
// routes of issue 11, where "which value counts" decides whether a node is
// adopted for real.

// TestQueryAmbiguityIsRefused: a query string that does not parse, or a
// parameter given twice, is a 400 before anything is done. url.URL.Query
// would drop "dry_run=%zz" and the pair holding a ";" silently, and take
// the first of two dry_run values: each of those adopted the node for real.
func TestQueryAmbiguityIsRefused(t *testing.T) {
	huge := strings.Repeat("x", 10<<10)
	tests := map[string]struct {
		method, path string
		wantText     string
	}{
		"dry_run false then true":  {http.MethodPost, "/v1/manageable_servers?dry_run=false&dry_run=true", "Invalid value for dry_run: given 2 times"},
		"dry_run true twice":       {http.MethodPost, "/v1/manageable_servers?dry_run=true&dry_run=true", "Invalid value for dry_run: given 2 times"},
		"dry_run bad escape":       {http.MethodPost, "/v1/manageable_servers?dry_run=%zz", "Malformed query string"},
		"dry_run after semicolon":  {http.MethodPost, "/v1/manageable_servers?x=1;dry_run=true", "Malformed query string"},
		"dry_run NUL":              {http.MethodPost, "/v1/manageable_servers?dry_run=%00", `Invalid value for dry_run: "\x00"`},
		"dry_run invalid UTF-8":    {http.MethodPost, "/v1/manageable_servers?dry_run=%ff", `Invalid value for dry_run: "\xff"`},
		"dry_run 10 KB":            {http.MethodPost, "/v1/manageable_servers?dry_run=" + huge, `Invalid value for dry_run: "xxxx`},
		"all twice":                {http.MethodGet, "/v1/manageable_servers?all=true&all=false", "Invalid value for all: given 2 times"},
		"resource_class twice":     {http.MethodGet, "/v1/manageable_servers?resource_class=a&resource_class=b", "Invalid value for resource_class: given 2 times"},
		"listing bad escape":       {http.MethodGet, "/v1/manageable_servers?all=%g0", "Malformed query string"},
		"limit twice":              {http.MethodGet, "/v1/servers?limit=1&limit=2", "Invalid value for limit: given 2 times"},
		"marker twice":             {http.MethodGet, "/v1/servers?marker=" + nodeUUID + "&marker=" + otherNode, "Invalid value for marker: given 2 times"},
		"all_tenants twice":        {http.MethodGet, "/v1/servers/detail?all_tenants=1&all_tenants=0", "Invalid value for all_tenants: given 2 times"},
		"servers after semicolon":  {http.MethodGet, "/v1/servers?limit=1;all_tenants=1", "Malformed query string"},
		"limit 10 KB":              {http.MethodGet, "/v1/servers?limit=" + huge, `Invalid value for limit: "xxxx`},
		"marker 10 KB of UTF-8 2B": {http.MethodGet, "/v1/servers?marker=" + strings.Repeat("%C3%A9", 5000), `Invalid value for marker: "éé`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, adoptableDriver(sampleNode(nodeUUID)))
			var r response
			if tc.method == http.MethodPost {
				r = h.postJSON(t, tc.path, validBody(nodeUUID))
			} else {
				r = h.get(t, tc.path)
			}
			if r.status != http.StatusBadRequest {
				t.Fatalf("status = %d; want 400 (%.300s)", r.status, r.body)
			}
			msg := faultString(t, r)
			if !strings.Contains(msg, tc.wantText) {
				t.Errorf("faultstring %q does not contain %q", msg, tc.wantText)
			}
			if len(msg) > 300 {
				t.Errorf("faultstring is %d bytes: the client's value is echoed whole", len(msg))
			}
			if n := h.driver.Calls(); n != 0 {
				t.Errorf("the driver was called %d times for a refused request", n)
			}
			assertNothingStored(t, h)
		})
	}
}

// TestLongServerIDIsNotEchoedWhole: a 10 KB {uuid} is a 404 quoting its
// first 80 bytes.
func TestLongServerIDIsNotEchoedWhole(t *testing.T) {
	h := newHarness(t, adoptableDriver(sampleNode(nodeUUID)))
	for _, path := range []string{"/v1/servers/", "/v1/servers/%s/actions", "/v1/servers/%s/actions/req-1"} {
		long := strings.Repeat("é", 5000)
		if strings.Contains(path, "%s") {
			path = strings.Replace(path, "%s", long, 1)
		} else {
			path += long
		}
		r := h.get(t, path)
		if r.status != http.StatusNotFound {
			t.Fatalf("status = %d; want 404 (%.200s)", r.status, r.body)
		}
		want := "Server " + strings.Repeat("é", 40) + "... could not be found."
		if msg := faultString(t, r); msg != want {
			t.Errorf("faultstring = %.200q; want %q", msg, want)
		}
	}
	// A method the route lacks: the 405 quotes the path's first 80 bytes.
	r := h.do(t, http.MethodDelete, "/v1/servers/"+strings.Repeat("a", 10000), "", nil)
	if r.status != http.StatusMethodNotAllowed {
		t.Fatalf("status = %d; want 405", r.status)
	}
	want := "Method DELETE is not allowed on /v1/servers/" + strings.Repeat("a", 80-len("/v1/servers/")) + "...."
	if msg := faultString(t, r); msg != want {
		t.Errorf("faultstring = %.200q; want %q", msg, want)
	}
}

// TestDuplicatedBodyKeysStoreWhatWasChecked: of a key given twice the
// schema, the NUL check and the metadata quota see the last value, and the
// adoption stores that value. encoding/json merged two "metadata" objects,
// so the first one's keys (a NUL, a refused key, past the quota) were
// stored unchecked.
func TestDuplicatedBodyKeysStoreWhatWasChecked(t *testing.T) {
	head := `{"name": "a", "node_uuid": "` + nodeUUID + `", `
	tests := map[string]struct {
		body         string
		wantStatus   int
		wantMetadata map[string]string
		wantProject  string
	}{
		"NUL and a refused key in the first metadata": {
			body:       head + `"metadata": {"bad/key": "x\u0000y"}, "metadata": {}}`,
			wantStatus: http.StatusCreated, wantMetadata: map[string]string{}, wantProject: "admin",
		},
		"past the quota in the first metadata": {
			body:       head + `"metadata": {"k1": "", "k2": "", "k3": ""}, "metadata": {"ok": "v"}}`,
			wantStatus: http.StatusCreated, wantMetadata: map[string]string{"ok": "v"}, wantProject: "admin",
		},
		"the last metadata is refused": {
			body:       head + `"metadata": {"ok": "v"}, "metadata": {"bad/key": "v"}}`,
			wantStatus: http.StatusBadRequest,
		},
		"project_id twice, the last counts": {
			body:       head + `"project_id": "first", "project_id": "second"}`,
			wantStatus: http.StatusCreated, wantMetadata: map[string]string{}, wantProject: "second",
		},
		"a bad project_id then a good one": {
			body:       head + `"project_id": 7, "project_id": "p"}`,
			wantStatus: http.StatusCreated, wantMetadata: map[string]string{}, wantProject: "p",
		},
		"a good project_id then null": {
			body:       head + `"project_id": "p", "project_id": null}`,
			wantStatus: http.StatusBadRequest,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newQuotaHarness(t, 2)
			r := h.postJSON(t, "/v1/manageable_servers", tc.body)
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d; want %d (%.300s)", r.status, tc.wantStatus, r.body)
			}
			if tc.wantStatus != http.StatusCreated {
				faultString(t, r)
				assertNothingStored(t, h)
				return
			}
			var got struct {
				UUID      string            `json:"uuid"`
				Metadata  map[string]string `json:"metadata"`
				ProjectID string            `json:"project_id"`
			}
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			// What the store kept, read back through the API.
			shown := h.get(t, "/v1/servers/"+got.UUID)
			if err := json.Unmarshal(shown.body, &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Metadata) != len(tc.wantMetadata) {
				t.Errorf("metadata = %v; want %v", got.Metadata, tc.wantMetadata)
			}
			for k, v := range tc.wantMetadata {
				if got.Metadata[k] != v {
					t.Errorf("metadata = %v; want %v", got.Metadata, tc.wantMetadata)
				}
			}
			if got.ProjectID != tc.wantProject {
				t.Errorf("project_id = %q; want %q", got.ProjectID, tc.wantProject)
			}
		})
	}
}

// TestAccessLogCutsALongPath: the debug access line quotes at most 512
// bytes of the path (a client may send 1 MB of one).
func TestAccessLogCutsALongPath(t *testing.T) {
	var logs bytes.Buffer
	authn, err := auth.New(t.Context(), auth.Config{Strategy: "noauth"}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessWithAuth(t, adoptableDriver(), authn, func(c *api.Config) {
		c.Logger = hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug})
	})
	rec := httptest.NewRecorder()
	// Served in this goroutine: the line is written when ServeHTTP returns.
	h.handler.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/x/"+strings.Repeat("a", 100<<10), nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status = %d; want 404", rec.Code)
	}
	line := logs.String()
	if !strings.Contains(line, "path=/x/aaaa") || !strings.Contains(line, "a...") {
		t.Fatalf("no access line with a cut path in %.300q", line)
	}
	if len(line) > 2048 {
		t.Errorf("the access line is %d bytes", len(line))
	}
}
