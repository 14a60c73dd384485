package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mogan-manage/mogan-manage/testenv/keystone"
)

// TestKeystoneAuth runs mogan-api with auth_strategy = keystone against a
// real standalone Keystone: X-Auth-Token decides 401, 403 or 200.
func TestKeystoneAuth(t *testing.T) {
	ctx := t.Context()
	ks, err := keystone.Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ks.Stop)
	conf := strings.Replace(hostConfig(t, "", fmt.Sprintf(`[driver]
name = test

[keystone_authtoken]
auth_url = %s
username = %s
password = %s
project_name = %s
`, ks.URL, ks.Service.Name, ks.Service.Password, ks.Service.Project)), "auth_strategy = noauth", "auth_strategy = keystone", 1)
	h := startHost(t, conf)

	admin, err := ks.Token(ctx, ks.Admin.Name, ks.Admin.Password, ks.Admin.Project)
	if err != nil {
		t.Fatal(err)
	}
	member, err := ks.Token(ctx, ks.Member.Name, ks.Member.Password, ks.Member.Project)
	if err != nil {
		t.Fatal(err)
	}
	const adoptBody = `{"name": "x", "node_uuid": "00000000-0000-4000-8000-000000000000"}`
	// In order: the admin's adoption comes after the member's refusal.
	tests := []struct {
		name, token, method, path, body string
		want                            int
	}{
		{"no token", "", http.MethodGet, "/v1/manageable_servers", "", 401},
		{"bogus token", "gAAAAAB-not-a-token", http.MethodGet, "/v1/manageable_servers", "", 401},
		{"member lists manageable", member, http.MethodGet, "/v1/manageable_servers", "", 403},
		{"member adopts", member, http.MethodPost, "/v1/manageable_servers", adoptBody, 403},
		{"member lists own servers", member, http.MethodGet, "/v1/servers", "", 200},
		{"admin lists manageable", admin, http.MethodGet, "/v1/manageable_servers", "", 200},
		{"admin adopts", admin, http.MethodPost, "/v1/manageable_servers", adoptBody, 201},
		{"version document is open", "", http.MethodGet, "/", "", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctx, tc.method, h.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.token != "" {
				req.Header.Set("X-Auth-Token", tc.token)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d; want %d (%s)", resp.StatusCode, tc.want, body)
			}
			if tc.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Keystone uri=") {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	// The member's refused adoption left nothing: the admin's is the only server.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.URL+"/v1/servers?all_tenants=true", nil)
	req.Header.Set("X-Auth-Token", admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if n := strings.Count(string(body), `"uuid"`); n != 1 {
		t.Errorf("servers after the refused adoption: %s", body)
	}
}
