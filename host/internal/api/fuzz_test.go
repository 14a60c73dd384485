package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzManageServer posts arbitrary bodies: the answer is never a 5xx, every
// error is in Mogan's format, and a refused body never reaches the driver
// nor the store. `make test` runs it briefly; `make fuzz FUZZTIME=10m`
// runs it longer.
func FuzzManageServer(f *testing.F) {
	for _, seed := range []string{
		validBody(nodeUUID),
		`{"name": "a", "node_uuid": "` + nodeUUID + `"}`,
		`{"name": "", "metadata": {"a/b": 1}}`,
		`null`, `[]`, `{`, `"x"`, `{"name": "a", "node_uuid": "` + nodeUUID + `", "extra": {}}`,
	} {
		f.Add([]byte(seed))
	}
	h := newHarness(f, adoptableDriver(sampleNode(nodeUUID)))
	f.Fuzz(func(t *testing.T, body []byte) {
		before := h.driver.Calls()
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/v1/manageable_servers", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code == http.StatusCreated {
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
