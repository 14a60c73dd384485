package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/mogan-manage/mogan-manage/host/internal/schema"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
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

// FuzzMigration posts arbitrary bodies to /v1/migrations, for real and as
// dry runs: the answer is never a 5xx, every error is in Mogan's format, a
// refused body records no migration, and a secret's value (one long
// enough to tell, written once in the body) is in no answer.
func FuzzMigration(f *testing.F) {
	body := inventoryBody("fz-01", macA)
	for _, seed := range []string{
		body.String(),
		body.with("server", doc{"name": "fz-01", "metadata": doc{"k": "v"}}).with("idempotency_key", "k").String(),
		handoffBody(sourceNode).String(),
		handoffBody(sourceNode).with("source.machine", machineDoc("fz-02", macB)).String(),
		body.with("secrets.redfish_password", secret+strings.Repeat("x", 5000)).String(),
		body.with("secrets", doc{"bad name": secret}).String(),
		body.with("secrets", secret).String(),
		doc{"secrets": doc{"redfish_password": secret}}.String(),
		body.with("source.machine.driver_info.ipmi_password", secret).String(),
		body.with("source.machine.ports", []doc{{"mac": "zz"}}).String(),
		`{"secrets": {"redfish_password": "` + secret + `"}, "secrets": 7, "source": {}}`,
		`{"source": {"machine": {"driver": "x"}}, "source": {"machine": {"driver": "y", "secrets": ["p"]}}, "secrets": {"p": "` + secret + `"}}`,
		`{"source": {"machine": {"name": "\ud800", "driver": "x"}}}`,
		`{"source": {"machine": {"driver": "x", "driver_info": {"a": "\u0000"}}}}`,
		`null`, `[]`, `{`, `{"source": 7}`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	mh := newMigrationHarness(f)
	activeSource(mh)
	f.Fuzz(func(t *testing.T, body []byte, dryRun bool) {
		count := func() int {
			ms, err := mh.store.ListMigrations(context.WithoutCancel(t.Context()), store.MigrationListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return len(ms)
		}
		before := count()
		path := "/v1/migrations"
		if dryRun {
			path += "?dry_run=true"
		}
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		mh.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
		for _, s := range secretsOf(body) {
			if bytes.Contains(rec.Body.Bytes(), []byte(s)) {
				t.Fatalf("the answer %q holds the secret %q of body %q", rec.Body, s, body)
			}
		}
		if rec.Code == http.StatusAccepted || rec.Code == http.StatusOK {
			return
		}
		var outer struct {
			ErrorMessage string `json:"error_message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &outer); err != nil || outer.ErrorMessage == "" {
			t.Fatalf("status %d with a body not in the error format: %q", rec.Code, rec.Body)
		}
		if n := count(); n != before {
			t.Fatalf("a refused body (%d) recorded %d migrations: %q", rec.Code, n-before, body)
		}
	})
}

// secretsOf are the strings under a body's "secrets" (values and nested
// values) that are long enough to tell and written once in the body as
// they are.
func secretsOf(body []byte) []string {
	d, err := schema.Decode(body)
	if err != nil {
		return nil
	}
	obj, _ := d.(map[string]any)
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if len(v) >= 12 && bytes.Count(body, []byte(v)) == 1 {
				out = append(out, v)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(obj["secrets"])
	return out
}
