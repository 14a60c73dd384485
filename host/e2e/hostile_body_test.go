package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestHostileBodiesBothEngines (issue 8, rows 2 and 3): through the built
// binaries, on the embedded SQLite and on a real PostgreSQL, the NUL
// character in any string of a manage body and a body that is not valid
// UTF-8 are 400 naming the field (PostgreSQL answered 500 "invalid byte
// sequence" and SQLite stored the NUL: the engines disagreed), more
// metadata items than [quota] metadata_items is 403, and nothing is
// stored; a valid body is then adopted with its text intact.
func TestHostileBodiesBothEngines(t *testing.T) {
	const node = "00000000-0000-4000-8000-000000000000" // the test driver's manageable node 0
	nodeField := `"node_uuid": "` + node + `"`
	refusals := map[string]struct {
		body       string
		wantStatus int
		wantText   []string
	}{
		"NUL in name":              {body: `{"name": "a\u0000b", ` + nodeField + `}`, wantStatus: 400, wantText: []string{"field/attribute name.", "NUL character"}},
		"NUL in description":       {body: `{"name": "a", "description": "\u0000", ` + nodeField + `}`, wantStatus: 400, wantText: []string{"field/attribute description.", "NUL character"}},
		"NUL in metadata key":      {body: `{"name": "a", "metadata": {"k\u0000": "v"}, ` + nodeField + `}`, wantStatus: 400, wantText: []string{"field/attribute metadata.", "NUL character"}},
		"NUL in metadata value":    {body: `{"name": "a", "metadata": {"k": "v\u0000"}, ` + nodeField + `}`, wantStatus: 400, wantText: []string{"field/attribute metadata.k.", "NUL character"}},
		"NUL in node_uuid":         {body: `{"name": "a", "node_uuid": "` + node + `\u0000"}`, wantStatus: 400, wantText: []string{"field/attribute node_uuid.", "NUL character"}},
		"invalid UTF-8 in name":    {body: "{\"name\": \"a\xffb\", " + nodeField + "}", wantStatus: 400, wantText: []string{"field/attribute name.", "not valid UTF-8"}},
		"invalid UTF-8 in a value": {body: "{\"name\": \"a\", \"metadata\": {\"k\": \"\xc3\"}, " + nodeField + "}", wantStatus: 400, wantText: []string{"field/attribute metadata.k.", "not valid UTF-8"}},
		"over the metadata quota":  {body: `{"name": "a", "metadata": {"a": "", "b": "", "c": "", "d": ""}, ` + nodeField + `}`, wantStatus: 403, wantText: []string{"Quota exceeded for metadata items: 4 items, the limit is 3."}},
	}
	engines := map[string]func(t *testing.T) string{
		"sqlite":     func(*testing.T) string { return "" },
		"postgresql": createDatabase,
	}
	for engine, database := range engines {
		t.Run(engine, func(t *testing.T) {
			conf := hostConfig(t, database(t), "[driver]\nname = test\n\n[quota]\nmetadata_items = 3\n")
			if engine != "sqlite" {
				dbSync(t, conf)
			}
			h := startHost(t, conf)
			for name, tc := range refusals {
				status, body := post(t, h.URL+"/v1/manageable_servers", tc.body)
				if status != tc.wantStatus {
					t.Errorf("%s: status = %d; want %d (%s)", name, status, tc.wantStatus, body)
					continue
				}
				msg := bodyFaultString(t, body)
				for _, want := range tc.wantText {
					if !strings.Contains(msg, want) {
						t.Errorf("%s: faultstring %q does not contain %q", name, msg, want)
					}
				}
			}
			var listed struct {
				Servers []json.RawMessage `json:"servers"`
			}
			resp, err := get(t.Context(), h.URL+"/v1/servers")
			if err != nil {
				t.Fatal(err)
			}
			err = json.NewDecoder(resp.Body).Decode(&listed)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if len(listed.Servers) != 0 {
				t.Errorf("%d servers stored after refused bodies; want none", len(listed.Servers))
			}

			const name = "wébserver-€-😀"
			status, body := post(t, h.URL+"/v1/manageable_servers",
				`{"name": "`+name+`", "metadata": {"a": "ü", "b": "", "c": "x"}, `+nodeField+`}`)
			if status != http.StatusCreated {
				t.Fatalf("valid body: status = %d; want 201 (%s)", status, body)
			}
			var srv struct {
				Name     string            `json:"name"`
				Metadata map[string]string `json:"metadata"`
			}
			if err := json.Unmarshal([]byte(body), &srv); err != nil {
				t.Fatal(err)
			}
			if srv.Name != name || srv.Metadata["a"] != "ü" {
				t.Errorf("adopted server name %q, metadata %v; want %q and a=ü", srv.Name, srv.Metadata, name)
			}
		})
	}
}

// bodyFaultString is the faultstring of a body in Mogan's error format.
func bodyFaultString(t *testing.T, body string) string {
	t.Helper()
	var outer struct {
		ErrorMessage string `json:"error_message"`
	}
	var inner struct {
		FaultString string `json:"faultstring"`
	}
	if err := json.Unmarshal([]byte(body), &outer); err != nil {
		t.Fatalf("error body %q is not Mogan's format: %v", body, err)
	}
	if err := json.Unmarshal([]byte(outer.ErrorMessage), &inner); err != nil {
		t.Fatalf("error_message %q is not a fault: %v", outer.ErrorMessage, err)
	}
	return inner.FaultString
}
