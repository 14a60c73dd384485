package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// FuzzManageServer posts arbitrary bodies: the answer is never a 5xx, every
// error is in Mogan's format, and a refused body never reaches the driver
// nor the store. `make test` runs it briefly; `make fuzz FUZZTIME=10m`
// runs it longer.
func FuzzManageServer(f *testing.F) {
	head := `{"name": "a", "node_uuid": "` + nodeUUID + `", `
	for _, seed := range []string{
		validBody(nodeUUID),
		`{"name": "a", "node_uuid": "` + nodeUUID + `"}`,
		`{"name": "", "metadata": {"a/b": 1}}`,
		`null`, `[]`, `{`, `"x"`, `{"name": "a", "node_uuid": "` + nodeUUID + `", "extra": {}}`,
		// Duplicated keys: what is stored must be what was checked
		// (encoding/json merged two metadata objects).
		head + `"metadata": {"bad/key": "x\u0000y"}, "metadata": {}}`,
		strings.TrimSuffix(bodyWithKeys(129), "}") + `, "metadata": {"k": "v"}}`,
		head + `"project_id": "p", "project_id": 7}`,
		head + `"project_id": "a", "PROJECT_ID": "b"}`,
		head + `"user_id": "` + strings.Repeat("u", 65) + `"}`,
		// Lone surrogate escapes: U+FFFD was stored in their place.
		head + `"description": "\ud800"}`,
		head + `"metadata": {"k": "\udc00", "\ud83d\ude00": "\ud800\u0041"}}`,
		head + `"description": "\\ud800 \\\udbff"}`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	h := newHarness(f, adoptableDriver(sampleNode(nodeUUID)))
	f.Fuzz(func(t *testing.T, body []byte, dryRun bool) {
		before := h.driver.Calls()
		path := "/v1/manageable_servers"
		if dryRun {
			path += "?dry_run=true"
		}
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code == http.StatusCreated || (dryRun && rec.Code == http.StatusOK) {
			checkAcceptedMetadata(t, rec.Code, rec.Body.Bytes())
			return
		}
		var outer struct {
			ErrorMessage string `json:"error_message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &outer); err != nil || outer.ErrorMessage == "" {
			t.Fatalf("status %d with a body not in the error format: %q", rec.Code, rec.Body)
		}
		if rec.Code == http.StatusBadRequest && h.driver.Calls() != before {
			t.Fatalf("the driver was called for a refused body %q", body)
		}
	})
}

// checkAcceptedMetadata checks the metadata of an adopted (201) or planned
// (200) server against what the schema and the quota allow: at most 128
// items, keys of the schema's pattern, no NUL anywhere.
func checkAcceptedMetadata(t *testing.T, status int, body []byte) {
	t.Helper()
	var srv struct {
		Metadata map[string]string `json:"metadata"`
	}
	if status == http.StatusOK {
		var plan struct {
			Server json.RawMessage `json:"server"`
		}
		if err := json.Unmarshal(body, &plan); err != nil {
			t.Fatal(err)
		}
		body = plan.Server
	}
	if err := json.Unmarshal(body, &srv); err != nil {
		t.Fatal(err)
	}
	if len(srv.Metadata) > 128 {
		t.Fatalf("%d metadata items accepted past the quota of 128", len(srv.Metadata))
	}
	for k, v := range srv.Metadata {
		if !metadataKey.MatchString(k) || strings.ContainsRune(k+v, 0) {
			t.Fatalf("metadata item %q: %q accepted", k, v)
		}
	}
}

// metadataKey is the manage schema's metadata key pattern.
var metadataKey = regexp.MustCompile(`^[a-zA-Z0-9-_:. ]{1,255}$`)
