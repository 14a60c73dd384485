package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/bcrypt"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
)

// directoryAuth is headerAuth with a directory, as the keystone strategy
// has: it knows the projects and users of testCallers, or is down.
type directoryAuth struct {
	headerAuth
	down    atomic.Bool
	lookups atomic.Int32
}

func (d *directoryAuth) known(id string, project bool) (bool, error) {
	d.lookups.Add(1)
	if d.down.Load() {
		return false, fmt.Errorf("%w: keystone: connection refused", auth.ErrAuthUnavailable)
	}
	for _, c := range testCallers {
		if (project && c.ProjectID == id) || (!project && c.UserID == id) {
			return true, nil
		}
	}
	return false, nil
}

func (d *directoryAuth) ProjectExists(_ context.Context, id string) (bool, error) {
	return d.known(id, true)
}

func (d *directoryAuth) UserExists(_ context.Context, id string) (bool, error) {
	return d.known(id, false)
}

func bodyFor(node, extra string) string {
	return `{"name": "web-1", "node_uuid": "` + node + `"` + extra + `}`
}

// serverUUIDs lists the uuids of a servers listing.
func serverUUIDs(t *testing.T, r response) []string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("listing: %d %s", r.status, r.body)
	}
	var list struct {
		Servers []struct {
			UUID string `json:"uuid"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, s := range list.Servers {
		out = append(out, s.UUID)
	}
	return out
}

// TestAdoptIntoTenantProject: an admin adopts into another project, named
// by project_id and user_id, which the directory must know. Members of
// that project see the server but cannot release it (403); members of
// another project are told it does not exist (404), as Nova tells them.
func TestAdoptIntoTenantProject(t *testing.T) {
	dir := &directoryAuth{}
	h := newHarnessWithAuth(t, adoptableDriver(sampleNode(nodeUUID), sampleNode(otherNode)), dir)

	// Refusals first: nothing is created by them.
	refusals := map[string]struct {
		body, query string
		down        bool
		want        int
		text        string
	}{
		"unknown project": {body: bodyFor(nodeUUID, `, "project_id": "no-such-project"`), want: 400,
			text: `Invalid input for field/attribute project_id. Value: "no-such-project". No such project in Keystone.`},
		"unknown user": {body: bodyFor(nodeUUID, `, "project_id": "tenant-a", "user_id": "nobody"`), want: 400,
			text: `Invalid input for field/attribute user_id. Value: "nobody". No such user in Keystone.`},
		"unknown project, dry run": {body: bodyFor(nodeUUID, `, "project_id": "no-such-project"`), query: "?dry_run=true", want: 400,
			text: `Invalid input for field/attribute project_id. Value: "no-such-project". No such project in Keystone.`},
		"directory down": {body: bodyFor(nodeUUID, `, "project_id": "tenant-a"`), down: true, want: 503,
			text: "checking project_id tenant-a: authentication service unavailable: keystone: connection refused"},
		"bad pattern": {body: bodyFor(nodeUUID, `, "project_id": "tenant a"`), want: 400, text: "project_id"},
		"too long":    {body: bodyFor(nodeUUID, `, "user_id": "`+strings.Repeat("u", 65)+`"`), want: 400, text: "user_id"},
		"not a string": {body: bodyFor(nodeUUID, `, "project_id": 7`), want: 400,
			text: "Invalid input for field/attribute project_id. Value: 7. Invalid type. Expected: string, given: integer"},
		"other extra field": {body: bodyFor(nodeUUID, `, "project_id": "tenant-a", "tenant_id": "tenant-a"`), want: 400,
			text: "Additional property tenant_id is not allowed"},
	}
	calls := h.driver.Calls()
	for name, tc := range refusals {
		t.Run(name, func(t *testing.T) {
			dir.down.Store(tc.down)
			defer dir.down.Store(false)
			r := h.by(t, "admin", http.MethodPost, "/v1/manageable_servers"+tc.query, tc.body)
			if r.status != tc.want {
				t.Fatalf("status %d; want %d (%s)", r.status, tc.want, r.body)
			}
			if msg := faultString(t, r); !strings.Contains(msg, tc.text) {
				t.Errorf("faultstring %q; want it to contain %q", msg, tc.text)
			}
		})
	}
	if n := h.driver.Calls(); n != calls {
		t.Errorf("refused adoptions reached the driver %d times", n-calls)
	}

	adopted := h.by(t, "admin", http.MethodPost, "/v1/manageable_servers", bodyFor(nodeUUID, `, "project_id": "tenant-a", "user_id": "owner-user"`))
	if adopted.status != http.StatusCreated {
		t.Fatalf("adopt: %d %s", adopted.status, adopted.body)
	}
	got := decodeObject(t, adopted.body)
	server := got["uuid"].(string)
	if diff := cmp.Diff([]any{"tenant-a", "owner-user"}, []any{got["project_id"], got["user_id"]}); diff != "" {
		t.Errorf("owner (-want +got):\n%s", diff)
	}
	// The admin's own project needs no look-up: the token vouches for it.
	dir.lookups.Store(0)
	own := h.by(t, "admin", http.MethodPost, "/v1/manageable_servers", bodyFor(otherNode, `, "project_id": "admin-project"`))
	if own.status != http.StatusCreated || dir.lookups.Load() != 0 {
		t.Errorf("adopt into the admin's own project: %d after %d look-ups (%s)", own.status, dir.lookups.Load(), own.body)
	}
	if o := decodeObject(t, own.body); o["project_id"] != "admin-project" || o["user_id"] != "admin-user" {
		t.Errorf("owner of the admin's own adoption: %v %v", o["project_id"], o["user_id"])
	}
	ownServer := decodeObject(t, own.body)["uuid"].(string)

	missing := "11111111-2222-4333-8444-555555555555"
	tests := map[string]struct {
		user, method, path string
		want               int
	}{
		"member shows":                     {"owner", http.MethodGet, "/v1/servers/" + server, 200},
		"member unmanages":                 {"owner", http.MethodPost, "/v1/servers/" + server + "/unmanage", 403},
		"member shows the admin's":         {"owner", http.MethodGet, "/v1/servers/" + ownServer, 404},
		"other project shows":              {"stranger", http.MethodGet, "/v1/servers/" + server, 404},
		"other project unmanages":          {"stranger", http.MethodPost, "/v1/servers/" + server + "/unmanage", 404},
		"other project reads actions":      {"stranger", http.MethodGet, "/v1/servers/" + server + "/actions", 404},
		"other project, missing server":    {"stranger", http.MethodGet, "/v1/servers/" + missing, 404},
		"other project unmanages missing":  {"stranger", http.MethodPost, "/v1/servers/" + missing + "/unmanage", 404},
		"admin shows":                      {"admin", http.MethodGet, "/v1/servers/" + server, 200},
		"admin unmanages a missing server": {"admin", http.MethodPost, "/v1/servers/" + missing + "/unmanage", 404},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := h.by(t, tc.user, tc.method, tc.path, "")
			if r.status != tc.want {
				t.Fatalf("status %d; want %d (%s)", r.status, tc.want, r.body)
			}
			if tc.want == 404 {
				// Word for word what a server that does not exist gets.
				id := strings.Split(strings.TrimPrefix(tc.path, "/v1/servers/"), "/")[0]
				if msg := faultString(t, r); msg != "Server "+id+" could not be found." {
					t.Errorf("faultstring %q", msg)
				}
			}
		})
	}
	listings := map[string]struct {
		user, path string
		want       []string
	}{
		"member":                {"owner", "/v1/servers", []string{server}},
		"member, detail":        {"owner", "/v1/servers/detail", []string{server}},
		"other project":         {"stranger", "/v1/servers", []string{}},
		"other project, detail": {"stranger", "/v1/servers/detail", []string{}},
	}
	for name, tc := range listings {
		t.Run("list "+name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, serverUUIDs(t, h.by(t, tc.user, http.MethodGet, tc.path, ""))); diff != "" {
				t.Errorf("servers (-want +got):\n%s", diff)
			}
		})
	}
	if r := h.by(t, "admin", http.MethodPost, "/v1/servers/"+server+"/unmanage", ""); r.status != http.StatusNoContent {
		t.Errorf("admin unmanages: %d %s", r.status, r.body)
	}
}

// TestAdoptIntoProjectHTTPBasic: under http_basic the fourth column of the
// user file ties a user to a project; project_id and user_id are taken as
// they are, there being no directory to ask.
func TestAdoptIntoProjectHTTPBasic(t *testing.T) {
	hash := func(pw string) string {
		b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	file := filepath.Join(t.TempDir(), "htpasswd")
	body := "admin:" + hash("adminpw") + "\nbob:" + hash("bobpw") + ":member:tenant-b\ncarol:" + hash("carolpw") + ":member:tenant-c\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(t.Context(), auth.Config{Strategy: "http_basic", HTTPBasicUserFile: file}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessWithAuth(t, adoptableDriver(sampleNode(nodeUUID)), authn)
	adopted := h.as(t, "admin", "adminpw", http.MethodPost, "/v1/manageable_servers",
		bodyFor(nodeUUID, `, "project_id": "tenant-b", "user_id": "anyone-at-all"`))
	if adopted.status != http.StatusCreated {
		t.Fatalf("adopt: %d %s", adopted.status, adopted.body)
	}
	server := decodeObject(t, adopted.body)["uuid"].(string)
	// In order: the release comes last.
	steps := []struct {
		name, user, password, method, path string
		want                               int
	}{
		{"bob shows", "bob", "bobpw", http.MethodGet, "/v1/servers/" + server, 200},
		{"bob unmanages", "bob", "bobpw", http.MethodPost, "/v1/servers/" + server + "/unmanage", 403},
		{"carol shows", "carol", "carolpw", http.MethodGet, "/v1/servers/" + server, 404},
		{"carol unmanages", "carol", "carolpw", http.MethodPost, "/v1/servers/" + server + "/unmanage", 404},
		{"admin unmanages", "admin", "adminpw", http.MethodPost, "/v1/servers/" + server + "/unmanage", 204},
	}
	if diff := cmp.Diff([]string{server}, serverUUIDs(t, h.as(t, "bob", "bobpw", http.MethodGet, "/v1/servers", ""))); diff != "" {
		t.Errorf("bob's servers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, serverUUIDs(t, h.as(t, "carol", "carolpw", http.MethodGet, "/v1/servers", ""))); diff != "" {
		t.Errorf("carol's servers (-want +got):\n%s", diff)
	}
	for _, tc := range steps {
		if r := h.as(t, tc.user, tc.password, tc.method, tc.path, ""); r.status != tc.want {
			t.Errorf("%s: status %d; want %d (%s)", tc.name, r.status, tc.want, r.body)
		}
	}
}
