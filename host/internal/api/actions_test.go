package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
)

// headerAuth authenticates by the X-Test-User header: "admin" (project
// admin-project, role admin), "owner" (member of tenant-a) or "stranger"
// (member of tenant-b). Policy is what is tested, not credentials.
type headerAuth struct{}

var testCallers = map[string]auth.Caller{
	"admin":    {UserID: "admin-user", ProjectID: "admin-project", Roles: []string{"admin"}},
	"owner":    {UserID: "owner-user", ProjectID: "tenant-a", Roles: []string{"member"}},
	"stranger": {UserID: "stranger-user", ProjectID: "tenant-b", Roles: []string{"member"}},
}

func (headerAuth) Authenticate(_ context.Context, r *http.Request) (auth.Caller, error) {
	c, ok := testCallers[r.Header.Get("X-Test-User")]
	if !ok {
		return auth.Caller{}, auth.ErrUnauthenticated
	}
	return c, nil
}

func (headerAuth) Challenge() string { return "" }

func (h *harness) by(t *testing.T, user, method, path, body string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, h.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Test-User", user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

type actionJSON struct {
	Action     string  `json:"action"`
	ServerUUID string  `json:"server_uuid"`
	RequestID  string  `json:"request_id"`
	UserID     string  `json:"user_id"`
	ProjectID  string  `json:"project_id"`
	StartTime  string  `json:"start_time"`
	FinishTime string  `json:"finish_time"`
	Result     string  `json:"result"`
	Message    *string `json:"message"`
}

// TestServerActions: an adoption and its release, read back as actions
// with the caller's identity and request id, newest first, times in the
// format of created_at; who may read them while the server is live and
// after it is released; 404 for what does not exist.
func TestServerActions(t *testing.T) {
	h := newHarnessWithAuth(t, adoptableDriver(sampleNode(nodeUUID)), headerAuth{})
	adopted := h.by(t, "admin", http.MethodPost, "/v1/manageable_servers", validBody(nodeUUID))
	if adopted.status != http.StatusCreated {
		t.Fatalf("adopt: %d %s", adopted.status, adopted.body)
	}
	adoptReq := adopted.header.Get("X-Openstack-Request-Id")
	server := decodeObject(t, adopted.body)["uuid"].(string)
	// The server is the admin's project's; make it tenant-a's, as [8/8]
	// §4 adopts into a tenant's project, to tell owner from caller.
	srv, err := h.store.GetServer(t.Context(), server)
	if err != nil {
		t.Fatal(err)
	}
	srv.ProjectID = "tenant-a"
	if _, err := h.store.UpdateServer(t.Context(), srv); err != nil {
		t.Fatal(err)
	}
	path := "/v1/servers/" + server + "/actions"

	r := h.by(t, "owner", http.MethodGet, path, "")
	if r.status != http.StatusOK {
		t.Fatalf("owner reads the actions of a live server: %d %s", r.status, r.body)
	}
	var list struct {
		Actions []actionJSON `json:"actions"`
	}
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Actions) != 1 {
		t.Fatalf("actions = %s", r.body)
	}
	manageAction := list.Actions[0]
	want := actionJSON{Action: "manage", ServerUUID: server, RequestID: adoptReq, UserID: "admin-user",
		ProjectID: "admin-project", StartTime: manageAction.StartTime, FinishTime: manageAction.FinishTime, Result: "success"}
	if diff := cmp.Diff(want, manageAction); diff != "" {
		t.Errorf("manage action (-want +got):\n%s", diff)
	}
	createdAt := decodeObject(t, adopted.body)["created_at"].(string)
	for name, ts := range map[string]string{"start_time": manageAction.StartTime, "finish_time": manageAction.FinishTime} {
		if _, err := time.Parse("2006-01-02T15:04:05.000000-07:00", ts); err != nil || len(ts) != len(createdAt) {
			t.Errorf("%s %q is not in created_at's format (%q): %v", name, ts, createdAt, err)
		}
	}
	if !strings.Contains(string(r.body), `"message":null`) {
		t.Errorf("a success's message is not null: %s", r.body)
	}

	if r := h.by(t, "stranger", http.MethodGet, path, ""); r.status != http.StatusNotFound {
		t.Errorf("another project's member: %d %s; want 404", r.status, r.body)
	}
	released := h.by(t, "admin", http.MethodPost, "/v1/servers/"+server+"/unmanage", "")
	if released.status != http.StatusNoContent {
		t.Fatalf("unmanage: %d %s", released.status, released.body)
	}
	releaseReq := released.header.Get("X-Openstack-Request-Id")

	tests := map[string]struct {
		user, path string
		status     int
		want       []string // request ids, in order
	}{
		"admin lists a released server's actions": {"admin", path, 200, []string{releaseReq, adoptReq}},
		"admin shows one":                         {"admin", path + "/" + adoptReq, 200, []string{adoptReq}},
		"owner after the release":                 {"owner", path, 404, nil},
		"owner shows one after the release":       {"owner", path + "/" + adoptReq, 404, nil},
		"stranger after the release":              {"stranger", path, 404, nil},
		"unknown request id":                      {"admin", path + "/req-00000000-0000-4000-8000-000000000000", 404, nil},
		"request id of another server":            {"admin", "/v1/servers/11111111-2222-4333-8444-555555555555/actions/" + adoptReq, 404, nil},
		"unknown server":                          {"admin", "/v1/servers/11111111-2222-4333-8444-555555555555/actions", 404, nil},
		"not a uuid":                              {"admin", "/v1/servers/nope/actions", 404, nil},
		"request id with a NUL":                   {"admin", path + "/req%00x", 404, nil},
		"request id not UTF-8":                    {"admin", path + "/req%ffx", 404, nil},
		"no credentials":                          {"", path, 401, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := h.by(t, tc.user, http.MethodGet, tc.path, "")
			if r.status != tc.status {
				t.Fatalf("status %d %s; want %d", r.status, r.body, tc.status)
			}
			if tc.status != http.StatusOK {
				faultString(t, r)
				return
			}
			var body struct {
				Actions []actionJSON `json:"actions"`
				Action  *actionJSON  `json:"action"`
			}
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatal(err)
			}
			if body.Action != nil {
				body.Actions = append(body.Actions, *body.Action)
			}
			var got []string
			for _, a := range body.Actions {
				got = append(got, a.RequestID)
				if a.ServerUUID != server || a.UserID != "admin-user" || a.Result != "success" {
					t.Errorf("action %+v", a)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("request ids (-want +got):\n%s", diff)
			}
		})
	}
}
