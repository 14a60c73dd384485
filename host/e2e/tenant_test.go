package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/mogan-manage/mogan-manage/testenv/keystone"
)

// tenantCall is one request as a caller: a Keystone token, or http_basic
// credentials "user:password".
func tenantCall(t *testing.T, method, url, token, basic, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if user, pw, ok := strings.Cut(basic, ":"); ok {
		req.SetBasicAuth(user, pw)
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

// listedAs is the uuids a servers listing at url shows the caller.
func listedAs(t *testing.T, url, token, basic string) []string {
	t.Helper()
	code, body := tenantCall(t, http.MethodGet, url, token, basic, "")
	if code != http.StatusOK {
		t.Fatalf("listing: %d %s", code, body)
	}
	var list struct {
		Servers []struct {
			UUID string `json:"uuid"`
		} `json:"servers"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, s := range list.Servers {
		out = append(out, s.UUID)
	}
	return out
}

// TestAdoptIntoKeystoneProject: real Keystone and Ironic. An admin adopts
// a node into project B for user U (both looked up in Keystone); a member
// of B sees it in the list and by uuid and may not release it (403); a
// member of C gets 404 and an empty list; a project Keystone does not
// know is a 400 naming it; Keystone down during the look-up is a 503; the
// actions name the admin.
func TestAdoptIntoKeystoneProject(t *testing.T) {
	ctx := t.Context()
	ks, err := keystone.Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ks.Stop)
	// The host's user may validate tokens and read projects and users
	// (Keystone's identity:get_project / get_user want the admin role).
	svc, err := ks.AddUser(ctx, "mogan-tenants", "service", "admin")
	if err != nil {
		t.Fatal(err)
	}
	userU, err := ks.AddUser(ctx, "user-u", "project-b", "member")
	if err != nil {
		t.Fatal(err)
	}
	memberC, err := ks.AddUser(ctx, "member-c", "project-c", "member")
	if err != nil {
		t.Fatal(err)
	}
	ironicSrv, nodes := startIronic(t, 2)

	conf := strings.Replace(ironicHostConfig(t, "", ironicSrv.URL, fmt.Sprintf(`[keystone_authtoken]
auth_url = %s
username = %s
password = %s
project_name = %s
user_domain_id = default
project_domain_id = default
`, ks.URL, svc.Name, svc.Password, svc.Project)), "auth_strategy = noauth", "auth_strategy = keystone", 1)
	h := startHost(t, conf)

	tokenOf := func(u keystone.User) string {
		tok, err := ks.Token(ctx, u.Name, u.Password, u.Project)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	admin, tokU, tokC := tokenOf(ks.Admin), tokenOf(userU), tokenOf(memberC)
	adopt := func(node, extra string) (int, string) {
		return tenantCall(t, http.MethodPost, h.URL+"/v1/manageable_servers", admin, "",
			`{"name": "tenant-server", "node_uuid": "`+node+`"`+extra+`}`)
	}

	code, body := adopt(nodes[0].UUID, `, "project_id": "0123456789abcdef0123456789abcdef"`)
	if code != http.StatusBadRequest || !strings.Contains(body, "project_id") || !strings.Contains(body, "0123456789abcdef0123456789abcdef") {
		t.Errorf("unknown project: %d %s; want 400 naming it", code, body)
	}
	code, body = adopt(nodes[0].UUID, `, "project_id": "`+userU.ProjectID+`", "user_id": "no-such-user"`)
	if code != http.StatusBadRequest || !strings.Contains(body, "user_id") || !strings.Contains(body, "no-such-user") {
		t.Errorf("unknown user: %d %s; want 400 naming it", code, body)
	}

	code, body = adopt(nodes[0].UUID, `, "project_id": "`+userU.ProjectID+`", "user_id": "`+userU.ID+`"`)
	if code != http.StatusCreated {
		t.Fatalf("adopt into project B: %d %s", code, body)
	}
	var srv struct {
		UUID      string `json:"uuid"`
		ProjectID string `json:"project_id"`
		UserID    string `json:"user_id"`
	}
	if err := json.Unmarshal([]byte(body), &srv); err != nil {
		t.Fatal(err)
	}
	if srv.ProjectID != userU.ProjectID || srv.UserID != userU.ID {
		t.Errorf("server owned by %s/%s; want project B %s, user U %s", srv.ProjectID, srv.UserID, userU.ProjectID, userU.ID)
	}
	if node := ironicNode(t, ironicSrv.URL, nodes[0].UUID); node["instance_uuid"] != srv.UUID {
		t.Errorf("Ironic's instance_uuid %v; want %s", node["instance_uuid"], srv.UUID)
	}

	server := h.URL + "/v1/servers/" + srv.UUID
	tests := []struct {
		name, token, method, url string
		want                     int
	}{
		{"member of B shows", tokU, http.MethodGet, server, 200},
		{"member of B unmanages", tokU, http.MethodPost, server + "/unmanage", 403},
		{"member of C shows", tokC, http.MethodGet, server, 404},
		{"member of C unmanages", tokC, http.MethodPost, server + "/unmanage", 404},
		{"member of C reads actions", tokC, http.MethodGet, server + "/actions", 404},
	}
	for _, tc := range tests {
		if code, body := tenantCall(t, tc.method, tc.url, tc.token, "", ""); code != tc.want {
			t.Errorf("%s: %d %s; want %d", tc.name, code, body, tc.want)
		}
	}
	if diff := cmp.Diff([]string{srv.UUID}, listedAs(t, h.URL+"/v1/servers", tokU, "")); diff != "" {
		t.Errorf("member of B's list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, listedAs(t, h.URL+"/v1/servers/detail", tokC, "")); diff != "" {
		t.Errorf("member of C's list (-want +got):\n%s", diff)
	}
	code, body = tenantCall(t, http.MethodGet, server+"/actions", admin, "", "")
	var actions struct {
		Actions []struct {
			Action    string `json:"action"`
			UserID    string `json:"user_id"`
			ProjectID string `json:"project_id"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(body), &actions); err != nil || code != http.StatusOK {
		t.Fatalf("actions: %d %s", code, body)
	}
	if len(actions.Actions) != 1 || actions.Actions[0].UserID != ks.Admin.ID || actions.Actions[0].ProjectID != ks.Admin.ProjectID {
		t.Errorf("actions %s; want one manage by the admin %s of project %s", body, ks.Admin.ID, ks.Admin.ProjectID)
	}

	// Keystone goes away: the admin's token is still cached, the look-up
	// of project C cannot be made.
	ks.Stop()
	code, body = adopt(nodes[1].UUID, `, "project_id": "`+memberC.ProjectID+`"`)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "project_id") {
		t.Errorf("Keystone down: %d %s; want 503 naming the look-up", code, body)
	}
	if node := ironicNode(t, ironicSrv.URL, nodes[1].UUID); node["instance_uuid"] != nil {
		t.Errorf("node %s associated after a refused adoption: %v", nodes[1].UUID, node["instance_uuid"])
	}
}

// TestAdoptIntoBasicAuthProject: under http_basic the fourth column of
// the user file ties a user to a project: the admin adopts into it and
// that user sees the server, another project's user does not.
func TestAdoptIntoBasicAuthProject(t *testing.T) {
	hash := func(pw string) string {
		b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	users := filepath.Join(t.TempDir(), "htpasswd")
	lines := "admin:" + hash("adminpw") + "\nbob:" + hash("bobpw") + ":member:tenant-b\ncarol:" + hash("carolpw") + ":member:tenant-c\n"
	if err := os.WriteFile(users, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(hostConfig(t, "", "[driver]\nname = test\n"), "auth_strategy = noauth",
		"auth_strategy = http_basic\nhttp_basic_auth_user_file = "+users, 1)
	h := startHost(t, conf)
	code, body := tenantCall(t, http.MethodPost, h.URL+"/v1/manageable_servers", "", "admin:adminpw",
		`{"name": "b", "node_uuid": "00000000-0000-4000-8000-000000000000", "project_id": "tenant-b"}`)
	if code != http.StatusCreated {
		t.Fatalf("adopt: %d %s", code, body)
	}
	var srv struct {
		UUID      string `json:"uuid"`
		ProjectID string `json:"project_id"`
	}
	if err := json.Unmarshal([]byte(body), &srv); err != nil || srv.ProjectID != "tenant-b" {
		t.Fatalf("adopted %s (%v); want project tenant-b", body, err)
	}
	if diff := cmp.Diff([]string{srv.UUID}, listedAs(t, h.URL+"/v1/servers", "", "bob:bobpw")); diff != "" {
		t.Errorf("bob's list (-want +got):\n%s", diff)
	}
	if code, body := tenantCall(t, http.MethodGet, h.URL+"/v1/servers/"+srv.UUID, "", "carol:carolpw", ""); code != http.StatusNotFound {
		t.Errorf("carol shows: %d %s; want 404", code, body)
	}
}
