package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/bcrypt"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
)

// TestActionsDoNotTellAServerExists (issue 15, finding 7): under
// http_basic, a caller who may not see a server gets from its /actions and
// /actions/{request_id} exactly what an unknown uuid gets, as show answers:
// 404 with the same words. A user without a project owns nothing, even the
// servers of an admin who has no project either.
func TestActionsDoNotTellAServerExists(t *testing.T) {
	hash := func(pw string) string {
		b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	file := filepath.Join(t.TempDir(), "htpasswd")
	users := "admin:" + hash("adminpw") + "\n" + // admin, no project
		"reader:" + hash("readerpw") + ":member\n" + // no project
		"bob:" + hash("bobpw") + ":member:tenant-b\n" // another project
	if err := os.WriteFile(file, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(t.Context(), auth.Config{Strategy: "http_basic", HTTPBasicUserFile: file}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessWithAuth(t, adoptableDriver(sampleNode(nodeUUID), sampleNode(otherNode)), authn)
	adopt := func(node string) (server, requestID string) {
		r := h.as(t, "admin", "adminpw", http.MethodPost, "/v1/manageable_servers", validBody(node))
		if r.status != http.StatusCreated {
			t.Fatalf("admin adopts: %d %s", r.status, r.body)
		}
		return decodeObject(t, r.body)["uuid"].(string), r.header.Get("X-Openstack-Request-Id")
	}
	live, liveReq := adopt(nodeUUID)
	released, releasedReq := adopt(otherNode)
	if r := h.as(t, "admin", "adminpw", http.MethodPost, "/v1/servers/"+released+"/unmanage", ""); r.status != http.StatusNoContent {
		t.Fatalf("admin unmanages: %d %s", r.status, r.body)
	}
	const unknown = "0b1c9a4e-51c2-4a56-9d4f-6f0e2c1d7b3a"

	// What the caller gets for path, with the uuid replaced, so that the
	// answers for two uuids compare.
	answer := func(user, password, path, id string) string {
		t.Helper()
		r := h.as(t, user, password, http.MethodGet, path, "")
		if r.status < 400 {
			return http.StatusText(r.status)
		}
		return http.StatusText(r.status) + ": " + strings.ReplaceAll(faultString(t, r), id, "<uuid>")
	}
	const notFound = "Not Found: Server <uuid> could not be found."
	for _, user := range []struct{ name, password string }{{"reader", "readerpw"}, {"bob", "bobpw"}} {
		for name, server := range map[string]struct{ id, requestID string }{
			"live":     {live, liveReq},
			"released": {released, releasedReq},
		} {
			for _, suffix := range []string{"", "/actions", "/actions/" + server.requestID, "/actions/req-unknown"} {
				if suffix == "" && name == "released" {
					continue // show has nothing to show once released, for anyone
				}
				t.Run(user.name+" "+name+" "+strings.ReplaceAll(suffix, server.requestID, "<request id>"), func(t *testing.T) {
					got := answer(user.name, user.password, "/v1/servers/"+server.id+suffix, server.id)
					want := answer(user.name, user.password, "/v1/servers/"+unknown+suffix, unknown)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("answer for a %s server differs from an unknown uuid's (-unknown +%s):\n%s", name, name, diff)
					}
					if got != notFound {
						t.Errorf("answer = %q; want %q", got, notFound)
					}
				})
			}
		}
	}
	// The admin still reads them.
	for _, path := range []string{"/v1/servers/" + live + "/actions", "/v1/servers/" + released + "/actions/" + releasedReq} {
		if r := h.as(t, "admin", "adminpw", http.MethodGet, path, ""); r.status != http.StatusOK {
			t.Errorf("admin reads %s: %d %s", path, r.status, r.body)
		}
	}
}
