package api_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ?fields= on GET /v1/servers and GET /v1/servers/{uuid}, as upstream
// Mogan's get_all and get_one take it (mogan/api/controllers/v1/
// servers.py): a comma-separated list of the server body's fields, which
// are returned with links and nothing else; names are trimmed and lower
// case, empty ones and repeats dropped. Upstream ignores a name that is
// no field; here it is a 400 naming it, as Ironic answers.

// rawObject decodes body as a JSON object whose values stay raw.
func rawObject(t *testing.T, body []byte) map[string]json.RawMessage {
	t.Helper()
	var v map[string]json.RawMessage
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return v
}

// pick is full with only names and links.
func pick(full map[string]json.RawMessage, names ...string) map[string]json.RawMessage {
	out := map[string]json.RawMessage{"links": full["links"]}
	for _, n := range names {
		if v, ok := full[n]; ok {
			out[n] = v
		}
	}
	return out
}

// TestFieldsSelectsEachServerField: for every field of the server body,
// show with ?fields=<it> returns exactly it and links, with the value the
// whole body has; so does the list, for each server.
func TestFieldsSelectsEachServerField(t *testing.T) {
	h, server, _ := adoptedHarness(t)
	full := rawObject(t, h.get(t, "/v1/servers/"+server).body)
	if len(full) < 20 {
		t.Fatalf("the whole body has %d fields: %v", len(full), slices.Sorted(maps.Keys(full)))
	}
	for _, name := range slices.Sorted(maps.Keys(full)) {
		t.Run(name, func(t *testing.T) {
			r := h.get(t, "/v1/servers/"+server+"?fields="+name)
			if r.status != http.StatusOK {
				t.Fatalf("show: %d %s", r.status, r.body)
			}
			if diff := cmp.Diff(pick(full, name), rawObject(t, r.body)); diff != "" {
				t.Errorf("show ?fields=%s (-want +got):\n%s", name, diff)
			}
			r = h.get(t, "/v1/servers?fields="+name)
			var list struct {
				Servers []map[string]json.RawMessage `json:"servers"`
			}
			if err := json.Unmarshal(r.body, &list); err != nil || r.status != http.StatusOK {
				t.Fatalf("list: %d %s (%v)", r.status, r.body, err)
			}
			if diff := cmp.Diff([]map[string]json.RawMessage{pick(full, name)}, list.Servers); diff != "" {
				t.Errorf("list ?fields=%s (-want +got):\n%s", name, diff)
			}
		})
	}
}

// TestFields: how a list of names is read, and what is refused.
func TestFields(t *testing.T) {
	h, server, _ := adoptedHarness(t)
	full := rawObject(t, h.get(t, "/v1/servers/"+server).body)
	tests := map[string]struct {
		fields   string
		want     []string // the fields returned besides links
		wantText string   // else: the 400's faultstring contains it
	}{
		"two":                            {fields: "uuid,name", want: []string{"uuid", "name"}},
		"upstream's default list":        {fields: "uuid,name,description,status,power_state", want: []string{"uuid", "name", "description", "status", "power_state"}},
		"spaces, case and repeats":       {fields: " UUID , Name ,,uuid,", want: []string{"uuid", "name"}},
		"links alone":                    {fields: "links"},
		"fault of a server not in error": {fields: "fault,status", want: []string{"status"}},
		"system_metadata (admin)":        {fields: "system_metadata", want: []string{"system_metadata"}},
		"no field":                       {fields: "bogus", wantText: `Invalid value for fields: "bogus" is not a field of a server (fields: addresses, affinity_zone,`},
		"one bad among good":             {fields: "uuid,uid,name", wantText: `Invalid value for fields: "uid" is not a field of a server`},
		"only commas":                    {fields: ",, ,", wantText: "Invalid value for fields: no field named."},
		"a long bad name":                {fields: strings.Repeat("f", 5000), wantText: `Invalid value for fields: "ffff`},
		"NUL":                            {fields: "uuid,\x00", wantText: `Invalid value for fields: "\x00" is not a field`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/v1/servers/" + server, "/v1/servers"} {
				r := h.get(t, path+"?fields="+url.QueryEscape(tc.fields))
				if tc.wantText != "" {
					if r.status != http.StatusBadRequest {
						t.Fatalf("%s: status %d; want 400 (%.300s)", path, r.status, r.body)
					}
					msg := faultString(t, r)
					if !strings.Contains(msg, tc.wantText) {
						t.Errorf("%s: faultstring %q does not contain %q", path, msg, tc.wantText)
					}
					if len(msg) > 600 {
						t.Errorf("%s: faultstring is %d bytes", path, len(msg))
					}
					continue
				}
				if r.status != http.StatusOK {
					t.Fatalf("%s: status %d (%s)", path, r.status, r.body)
				}
				got := rawObject(t, r.body)
				if path == "/v1/servers" {
					var list struct {
						Servers []map[string]json.RawMessage `json:"servers"`
					}
					if err := json.Unmarshal(r.body, &list); err != nil || len(list.Servers) != 1 {
						t.Fatalf("list: %s (%v)", r.body, err)
					}
					got = list.Servers[0]
				}
				if diff := cmp.Diff(pick(full, tc.want...), got); diff != "" {
					t.Errorf("%s ?fields=%q (-want +got):\n%s", path, tc.fields, diff)
				}
			}
		})
	}
	r := h.get(t, "/v1/servers/"+server+"?fields=uuid&fields=name")
	if r.status != http.StatusBadRequest || !strings.Contains(faultString(t, r), "Invalid value for fields: given 2 times") {
		t.Errorf("fields twice: %d %s", r.status, r.body)
	}
}

// TestFieldsHideWhatTheCallerMayNotSee: a member asking for
// system_metadata does not get it, as without fields.
func TestFieldsHideWhatTheCallerMayNotSee(t *testing.T) {
	h := newHarnessWithAuth(t, adoptableDriver(sampleNode(nodeUUID)), headerAuth{})
	adopted := h.by(t, "admin", http.MethodPost, "/v1/manageable_servers", bodyFor(nodeUUID, `, "project_id": "tenant-a"`))
	if adopted.status != http.StatusCreated {
		t.Fatalf("adopt: %d %s", adopted.status, adopted.body)
	}
	server := decodeObject(t, adopted.body)["uuid"].(string)
	full := rawObject(t, h.by(t, "owner", http.MethodGet, "/v1/servers/"+server, "").body)
	if _, ok := full["system_metadata"]; ok {
		t.Fatalf("a member sees system_metadata: %s", adopted.body)
	}
	r := h.by(t, "owner", http.MethodGet, "/v1/servers/"+server+"?fields=uuid,system_metadata", "")
	if r.status != http.StatusOK {
		t.Fatalf("show: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff(pick(full, "uuid"), rawObject(t, r.body)); diff != "" {
		t.Errorf("member's ?fields=uuid,system_metadata (-want +got):\n%s", diff)
	}
	// Another project's server stays a 404, fields or not.
	if r := h.by(t, "stranger", http.MethodGet, "/v1/servers/"+server+"?fields=uuid", ""); r.status != http.StatusNotFound {
		t.Errorf("stranger: %d %s", r.status, r.body)
	}
}
