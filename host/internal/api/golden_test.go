package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The golden tests compare our bodies with upstream Mogan's samples field
// by field: the same keys (plus the documented extras) and the same JSON
// type for every key, null standing in for any type.

func loadSample(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "mogan-api-samples", name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func decodeObject(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return v
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// compareShape checks got against the sample want at path: every key of
// want is in got, got has no key but want's and extras, and types agree
// (descending into objects and the first element of arrays).
func compareShape(t *testing.T, path string, want, got map[string]any, extras []string, fix map[string]string) {
	t.Helper()
	wantKeys := append(keys(want), extras...)
	sort.Strings(wantKeys)
	if diff := cmp.Diff(wantKeys, keys(got)); diff != "" {
		t.Errorf("%s keys (-sample +ours):\n%s", path, diff)
	}
	for k, wv := range want {
		gv := got[k]
		wt, gt := jsonType(wv), jsonType(gv)
		if f, ok := fix[path+"."+k]; ok {
			wt = f
		}
		if wt != gt && wt != "null" && gt != "null" {
			t.Errorf("%s.%s is %s; the sample has %s", path, k, gt, wt)
			continue
		}
		switch w := wv.(type) {
		case map[string]any:
			if g, ok := gv.(map[string]any); ok && path != "" && k != "metadata" && k != "addresses" && k != "partitions" {
				compareShape(t, path+"."+k, w, g, nil, fix)
			}
		case []any:
			if g, ok := gv.([]any); ok && len(w) > 0 && len(g) > 0 {
				wo, wok := w[0].(map[string]any)
				gobj, gok := g[0].(map[string]any)
				if wok && gok {
					compareShape(t, path+"."+k+"[]", wo, gobj, nil, fix)
				}
			}
		}
	}
}

func TestGoldenManageableServersList(t *testing.T) {
	h := newHarness(t, adoptableDriver(sampleNode(otherNode)))
	r := h.get(t, "/v1/manageable_servers")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	sample := loadSample(t, "manageable-servers-list-resp.json")
	got := decodeObject(t, r.body)
	if diff := cmp.Diff(keys(sample), keys(got)); diff != "" {
		t.Fatalf("top-level keys (-sample +ours):\n%s", diff)
	}
	// Same node, same document: compare values too. Each item also says
	// its backend (an extra field: upstream's client ignores it).
	for _, item := range got["manageable_servers"].([]any) {
		m := item.(map[string]any)
		if m["backend"] != "test" {
			t.Errorf("item's backend = %v, want the harness's one backend", m["backend"])
		}
		delete(m, "backend")
	}
	if diff := cmp.Diff(sample, got); diff != "" {
		t.Errorf("listing differs from the sample (-sample +ours):\n%s", diff)
	}
}

func TestGoldenServerRoutes(t *testing.T) {
	h := newHarness(t, adoptableDriver(sampleNode(nodeUUID)))
	manageReq, err := os.ReadFile(filepath.Join("testdata", "mogan-api-samples", "server-manage-req.json"))
	if err != nil {
		t.Fatal(err)
	}
	created := h.postJSON(t, "/v1/manageable_servers", string(manageReq))
	if created.status != http.StatusCreated {
		t.Fatalf("POST status %d: %s", created.status, created.body)
	}
	server := decodeObject(t, created.body)
	uuid, _ := server["uuid"].(string)
	if loc := created.header.Get("Location"); loc != h.url+"/v1/servers/"+uuid {
		t.Errorf("Location = %q; want %s/v1/servers/%s", loc, h.url, uuid)
	}
	// The sample's addresses is [] by mistake: upstream's code sends an object.
	fix := map[string]string{".addresses": "object", "server[].addresses": "object"}

	t.Run("manage", func(t *testing.T) {
		compareShape(t, "", loadSample(t, "server-manage-resp.json"), server,
			[]string{"backend", "locked", "node", "system_metadata"}, fix)
		if got := server["addresses"]; jsonType(got) != "object" {
			t.Errorf("addresses is %s; python-moganclient needs an object", jsonType(got))
		}
		if server["node_uuid"] != nodeUUID || server["node"] != "test_node" || server["status"] != "active" ||
			server["power_state"] != "power on" || server["image_uuid"] != "03239419-e588-42b6-a70f-94f23ed0c9e2" {
			t.Errorf("server does not describe the adopted node: %v", server)
		}
		if diff := cmp.Diff(map[string]any{"managed_server": "True"}, server["system_metadata"]); diff != "" {
			t.Errorf("system_metadata (-want +got):\n%s", diff)
		}
	})
	detailExtras := []string{"backend", "key_name", "node", "node_uuid", "system_metadata"}
	t.Run("show", func(t *testing.T) {
		r := h.get(t, "/v1/servers/"+uuid)
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		got := decodeObject(t, r.body)
		compareShape(t, "", loadSample(t, "server-detail-resp.json"), got, detailExtras, fix)
		if diff := cmp.Diff(server, got); diff != "" {
			t.Errorf("GET differs from the POST answer (-post +get):\n%s", diff)
		}
	})
	t.Run("list", func(t *testing.T) {
		r := h.get(t, "/v1/servers")
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		got := decodeObject(t, r.body)
		sample := loadSample(t, "server-list-resp.json")
		compareShape(t, "server", map[string]any{"servers": sample["servers"]}, got, nil, fix)
		list, _ := got["servers"].([]any)
		if len(list) != 1 {
			t.Fatalf("servers = %v; want the one adopted", got["servers"])
		}
		entry, _ := list[0].(map[string]any)
		sampleEntry := sample["servers"].([]any)[0].(map[string]any)
		if diff := cmp.Diff(keys(sampleEntry), keys(entry)); diff != "" {
			t.Errorf("list entry keys (-sample +ours):\n%s", diff)
		}
	})
	t.Run("detail", func(t *testing.T) {
		r := h.get(t, "/v1/servers/detail")
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		got := decodeObject(t, r.body)
		list, _ := got["servers"].([]any)
		if len(list) != 1 {
			t.Fatalf("servers = %v; want the one adopted", got["servers"])
		}
		sample := loadSample(t, "server-list-detail-resp.json")
		compareShape(t, "", sample["servers"].([]any)[0].(map[string]any), list[0].(map[string]any), detailExtras, fix)
	})
	t.Run("in error", func(t *testing.T) {
		// The reconciler found the node gone: the server shows upstream's fault.
		if err := h.store.SetServerState(t.Context(), uuid, "error", "power on", "node "+nodeUUID+" no longer exists"); err != nil {
			t.Fatal(err)
		}
		r := h.get(t, "/v1/servers/"+uuid)
		got := decodeObject(t, r.body)
		fault, _ := got["fault"].(map[string]any)
		sample, _ := loadSample(t, "server-detail-resp-when-error.json")["fault"].(map[string]any)
		if diff := cmp.Diff(keys(sample), keys(fault)); diff != "" {
			t.Errorf("fault keys (-sample +ours):\n%s", diff)
		}
		if got["status"] != "error" || !strings.Contains(fmt.Sprint(fault["message"]), "no longer exists") {
			t.Errorf("server in error = %v", got)
		}
	})
}
