package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// ironicNode reads one node's fields from Ironic directly.
func ironicNode(t *testing.T, ironicURL, uuid string) map[string]any {
	t.Helper()
	var n map[string]any
	ironicGet(t, ironicURL, "/v1/nodes/"+uuid+"?fields=uuid,instance_uuid", &n)
	return n
}

// ironicGet decodes one GET of Ironic's API at its newest microversion.
func ironicGet(t *testing.T, ironicURL, path string, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, ironicURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-OpenStack-Ironic-API-Version", "latest")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestIronicEndToEnd drives the whole product against a real standalone
// Ironic: list, adopt, refusals, release, and Ironic going away.
func TestIronicEndToEnd(t *testing.T) {
	ctx := t.Context()
	ironicSrv, err := ironic.Start(ctx, ironic.Options{Dir: t.TempDir(), DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = ironicSrv.Stop()
		}
	})
	nodes, err := ironicSrv.Fixture().Enroll(ctx, ironic.Mix{Adoptable: 2, Associated: 1, Maintenance: 1, Available: 1, NoResourceClass: 1})
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[ironic.Kind]ironic.Node{}
	for _, n := range nodes {
		if _, ok := byKind[n.Kind]; !ok {
			byKind[n.Kind] = n
		}
	}
	h := startHost(t, hostConfig(t, "", fmt.Sprintf("[driver]\nname = ironic\n[ironic]\nurl = %s\nauth_type = none\n", ironicSrv.URL)))

	// The listing holds exactly the adoptable nodes.
	code, body := status(t, h.URL+"/v1/manageable_servers")
	if code != http.StatusOK {
		t.Fatalf("list: %d %s", code, body)
	}
	var list struct {
		Servers []struct {
			UUID  string `json:"uuid"`
			Ports []struct {
				NeutronPortID *string `json:"neutron_port_id"`
			} `json:"ports"`
		} `json:"manageable_servers"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, s := range list.Servers {
		listed[s.UUID] = true
	}
	for _, n := range nodes {
		if listed[n.UUID] != (n.Kind == ironic.KindAdoptable) {
			t.Errorf("node %s (%s): listed = %v", n.UUID, n.Kind, listed[n.UUID])
		}
	}

	adopt := byKind[ironic.KindAdoptable]
	code, body = post(t, h.URL+"/v1/manageable_servers", `{"name": "web-1", "node_uuid": "`+adopt.UUID+`"}`)
	if code != http.StatusCreated {
		t.Fatalf("adopt: %d %s", code, body)
	}
	var server struct {
		UUID string `json:"uuid"`
	}
	if err := json.Unmarshal([]byte(body), &server); err != nil {
		t.Fatal(err)
	}
	if got := ironicNode(t, ironicSrv.URL, adopt.UUID)["instance_uuid"]; got != server.UUID {
		t.Errorf("Ironic instance_uuid = %v; want the server %s", got, server.UUID)
	}

	refusals := map[string]struct {
		node       string
		want       int
		wantInBody string
	}{
		"adopt twice":         {adopt.UUID, http.StatusConflict, "already managed"},
		"unknown node":        {"11111111-2222-3333-4444-555555555555", http.StatusNotFound, "11111111-2222-3333-4444-555555555555"},
		"node in maintenance": {byKind[ironic.KindMaintenance].UUID, http.StatusConflict, "maintenance"},
		"associated node":     {byKind[ironic.KindAssociated].UUID, http.StatusConflict, "associated with instance"},
		"available node":      {byKind[ironic.KindAvailable].UUID, http.StatusConflict, "available"},
		"no resource class":   {byKind[ironic.KindNoResourceClass].UUID, http.StatusConflict, "resource_class"},
	}
	for name, tc := range refusals {
		t.Run(name, func(t *testing.T) {
			code, body := post(t, h.URL+"/v1/manageable_servers", `{"name": "x", "node_uuid": "`+tc.node+`"}`)
			if code != tc.want || !strings.Contains(body, tc.wantInBody) {
				t.Errorf("status %d body %s; want %d mentioning %q", code, body, tc.want, tc.wantInBody)
			}
		})
	}

	// Release: Ironic forgets the association, the machine is untouched.
	if code, body := post(t, h.URL+"/v1/servers/"+server.UUID+"/unmanage", ""); code != http.StatusNoContent {
		t.Fatalf("unmanage: %d %s", code, body)
	}
	if got := ironicNode(t, ironicSrv.URL, adopt.UUID)["instance_uuid"]; got != nil {
		t.Errorf("Ironic instance_uuid after unmanage = %v; want null", got)
	}

	// Ironic goes away: 503 naming it, and the host keeps serving.
	if err := ironicSrv.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	code, body = status(t, h.URL+"/v1/manageable_servers")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, ironicSrv.URL) {
		t.Errorf("list with Ironic stopped: %d %s; want 503 naming %s", code, body, ironicSrv.URL)
	}
	for _, path := range []string{"/healthz", "/v1/servers"} {
		if code, body := status(t, h.URL+path); code != http.StatusOK {
			t.Errorf("GET %s with Ironic stopped: %d %s", path, code, body)
		}
	}
}
