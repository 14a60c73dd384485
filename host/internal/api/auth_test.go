package api_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/bcrypt"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
)

// basicAuthHarness serves the API with http_basic auth over a real
// htpasswd file: "admin" (admin, as Ironic) and "reader" (member only).
func basicAuthHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWithAuth(t, adoptableDriver(sampleNode(nodeUUID)), basicAuth(t))
}

// basicAuth is http_basic auth over a real htpasswd file: "admin"
// (admin, as Ironic) and "reader" (member only).
func basicAuth(t *testing.T) auth.Authenticator {
	t.Helper()
	hash := func(pw string) string {
		b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	file := filepath.Join(t.TempDir(), "htpasswd")
	body := "admin:" + hash("adminpw") + "\nreader:" + hash("readerpw") + ":member\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(t.Context(), auth.Config{Strategy: "http_basic", HTTPBasicUserFile: file}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	return authn
}

func (h *harness) as(t *testing.T, user, password, method, path, body string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, h.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: []byte(b.String())}
}

func TestAuthAndPolicy(t *testing.T) {
	h := basicAuthHarness(t)
	adopted := h.as(t, "admin", "adminpw", http.MethodPost, "/v1/manageable_servers", validBody(nodeUUID))
	if adopted.status != http.StatusCreated {
		t.Fatalf("admin adopt: %d %s", adopted.status, adopted.body)
	}
	server := decodeObject(t, adopted.body)["uuid"].(string)
	calls := h.driver.Calls()

	tests := map[string]struct {
		user, password, method, path, body string
		want                               int
	}{
		"no credentials list":        {"", "", http.MethodGet, "/v1/manageable_servers", "", 401},
		"no credentials servers":     {"", "", http.MethodGet, "/v1/servers", "", 401},
		"wrong password":             {"admin", "nope", http.MethodGet, "/v1/manageable_servers", "", 401},
		"unknown user":               {"mallory", "x", http.MethodGet, "/v1/servers/detail", "", 401},
		"member lists manageable":    {"reader", "readerpw", http.MethodGet, "/v1/manageable_servers", "", 403},
		"member adopts":              {"reader", "readerpw", http.MethodPost, "/v1/manageable_servers", validBody(otherNode), 403},
		"member unmanages another's": {"reader", "readerpw", http.MethodPost, "/v1/servers/" + server + "/unmanage", "", 404}, // as Nova: not told it exists
		"member lists all tenants":   {"reader", "readerpw", http.MethodGet, "/v1/servers?all_tenants=true", "", 403},
		"member shows another's":     {"reader", "readerpw", http.MethodGet, "/v1/servers/" + server, "", 404},
		"no credentials unmanage":    {"", "", http.MethodPost, "/v1/servers/" + server + "/unmanage", "", 401},
		"version documents are open": {"", "", http.MethodGet, "/", "", 200},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := h.as(t, tc.user, tc.password, tc.method, tc.path, tc.body)
			if r.status != tc.want {
				t.Fatalf("status %d; want %d (%s)", r.status, tc.want, r.body)
			}
			if tc.want < 400 {
				return
			}
			msg := faultString(t, r)
			if tc.want == 401 && r.header.Get("WWW-Authenticate") != `Basic realm="mogan"` {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
			if tc.want == 403 && !strings.Contains(msg, "mogan:") {
				t.Errorf("403 faultstring %q does not name the policy rule", msg)
			}
		})
	}
	if n := h.driver.Calls(); n != calls {
		t.Errorf("refused requests reached the driver %d times", n-calls)
	}
	// Nothing changed: the one server is still there, nothing else is.
	r := h.as(t, "admin", "adminpw", http.MethodGet, "/v1/servers", "")
	list, _ := decodeObject(t, r.body)["servers"].([]any)
	if len(list) != 1 {
		t.Errorf("servers after refused requests: %s", r.body)
	}
	// A member without a project owns nothing and sees nothing.
	r = h.as(t, "reader", "readerpw", http.MethodGet, "/v1/servers", "")
	if r.status != http.StatusOK || strings.Contains(string(r.body), server) {
		t.Errorf("member listing: %d %s", r.status, r.body)
	}
}
