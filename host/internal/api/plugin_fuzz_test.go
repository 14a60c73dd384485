package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/api"
	"github.com/mogan-manage/mogan-manage/host/internal/auth"
	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/host/internal/pluginmanager"
	"github.com/mogan-manage/mogan-manage/host/internal/policy"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// The fuzz targets of this file go through the real plugin boundary, as in
// production: the API over the application layer over pluginmanager,
// which runs testenv/cmd/mogan-driver-test as a go-plugin process (gRPC
// over a socket). What the host builds for the plugin is marshalled for
// real, and a request that breaks the plugin shows as a new pid.
//
// Invariants for every input: no 5xx (the test driver is healthy: a 5xx
// is the host's fault), no panic, every error in Mogan's format, a 200 body
// valid JSON, and the plugin's pid unchanged. `make test` runs each for
// 10 s, `make fuzz FUZZTIME=10m` longer.

// pluginHarness is the API wired to the test driver over go-plugin.
type pluginHarness struct {
	handler http.Handler
	plugins *pluginmanager.Manager
	pid     int
}

// newPluginHarness builds the test driver (once per fuzz process: every
// worker runs this setup) and starts it under pluginmanager.
func newPluginHarness(f *testing.F) *pluginHarness {
	f.Helper()
	dir := f.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "mogan-driver-test"),
		"github.com/mogan-manage/mogan-manage/testenv/cmd/mogan-driver-test")
	if out, err := build.CombinedOutput(); err != nil {
		f.Fatalf("go build mogan-driver-test: %v\n%s", err, out)
	}
	log := hclog.NewNullLogger()
	plugins, err := pluginmanager.New(pluginmanager.Config{
		Name:      "test",
		PluginDir: dir,
		// Generous: a 504 on a loaded machine would read as a finding.
		CallTimeout: time.Minute,
		Options:     map[string]string{},
		Logger:      log,
	})
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := plugins.Start(ctx); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(plugins.Stop)

	st, err := store.OpenWithOptions(ctx, "sqlite://"+filepath.Join(f.TempDir(), "mogan.sqlite"), log,
		store.OpenOptions{CreateIfMissing: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	authn, err := auth.New(ctx, auth.Config{Strategy: "noauth"}, log)
	if err != nil {
		f.Fatal(err)
	}
	enforcer, err := policy.New("")
	if err != nil {
		f.Fatal(err)
	}
	handler, err := api.New(api.Config{
		Logger: log, Auth: authn, Policy: enforcer,
		Manage: manage.New(manage.Config{Store: st, Backends: []manage.Backend{{Name: "fuzz", Driver: plugins.Driver()}}, Logger: log, Owner: "fuzz"}),
	})
	if err != nil {
		f.Fatal(err)
	}
	return &pluginHarness{handler: handler, plugins: plugins, pid: plugins.Pid()}
}

// serve runs one request in-process (the plugin call is real).
func (h *pluginHarness) serve(ctx context.Context, method, path string, query url.Values, body string) response {
	req := httptest.NewRequestWithContext(ctx, method, "/", strings.NewReader(body))
	req.URL = &url.URL{Path: path, RawQuery: query.Encode()}
	req.RequestURI = req.URL.RequestURI()
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// check asserts the invariants on r, the answer to what.
func (h *pluginHarness) check(t *testing.T, what string, r response) {
	t.Helper()
	switch {
	case r.status >= 500:
		t.Fatalf("%s: status %d: %s", what, r.status, r.body)
	case r.status >= 400:
		faultString(t, r)
	case r.status == http.StatusOK && !json.Valid(r.body):
		t.Fatalf("%s: 200 with a body that is not JSON: %q", what, r.body)
	}
	if pid := h.plugins.Pid(); pid != h.pid {
		t.Fatalf("%s: the plugin was restarted (pid %d, then %d): a request must never kill the plugin", what, h.pid, pid)
	}
}

// testNode is the UUID of the test driver's node i.
func testNode(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012x", i) }

// FuzzManageableServersQuery fuzzes GET /v1/manageable_servers's limit,
// marker, resource_class and all: every string that crosses to the plugin
// must be refused (400) or carried safely.
func FuzzManageableServersQuery(f *testing.F) {
	for _, seed := range [][4]string{
		{"", "", "", ""},
		{"3", testNode(2), "gold", "true"},
		{"1", "", "silver", "false"},
		{"10000", testNode(9), "", "1"},
		{"0", "x", "", "maybe"},
		{"-1", testNode(0)[:35], "\x00", "TRUE"},
		{"1e3", "", "\xff", ""},                // issue 8 row 1: invalid UTF-8 reached gRPC marshalling
		{"", "", "a\xc3", "on"},                // a cut UTF-8 sequence
		{"", "", strings.Repeat("é", 200), ""}, // over 255 bytes, under 255 runes
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	h := newPluginHarness(f)
	f.Fuzz(func(t *testing.T, limit, marker, resourceClass, all string) {
		q := url.Values{}
		for name, v := range map[string]string{"limit": limit, "marker": marker, "resource_class": resourceClass, "all": all} {
			if v != "" {
				q.Set(name, v)
			}
		}
		h.check(t, "GET /v1/manageable_servers?"+q.Encode(), h.serve(t.Context(), http.MethodGet, "/v1/manageable_servers", q, ""))
	})
}

// FuzzServersRoutes fuzzes the servers routes: the listings' limit, marker
// and all_tenants, and {uuid} of show, unmanage (which calls the plugin's
// Unmanage) and the actions (list, and show with the marker as request
// id), over servers adopted through the plugin.
func FuzzServersRoutes(f *testing.F) {
	h := newPluginHarness(f)
	var adopted []string
	for i := range 3 {
		r := h.serve(context.Background(), http.MethodPost, "/v1/manageable_servers", nil,
			fmt.Sprintf(`{"name": "fuzz-%d", "node_uuid": %q}`, i, testNode(i)))
		if r.status != http.StatusCreated {
			f.Fatalf("adopting test node %d through the plugin: %d %s", i, r.status, r.body)
		}
		var srv struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal(r.body, &srv); err != nil {
			f.Fatal(err)
		}
		adopted = append(adopted, srv.UUID)
	}
	for _, seed := range []struct {
		route                         uint8
		id, limit, marker, allTenants string
	}{
		{0, "", "", "", ""},
		{0, "", "2", adopted[0], "true"},
		{1, "", "1", adopted[1], "false"},
		{1, "", "0", "nope", "yes please"},
		{2, adopted[0], "", "", ""},
		{2, "\xff", "", "", ""},
		{2, adopted[1] + "/..", "", "", ""},
		{3, adopted[2], "", "", ""}, // unmanaged for real, once
		{3, testNode(5), "", "", ""},
		{3, "%2e%2e", "", "", ""},
		{4, adopted[0], "", "", ""},
		{4, adopted[2], "", "", ""}, // released by the seed above, if run before
		{5, adopted[0], "", "req-\x00", ""},
		{5, adopted[0], "", "\xff", ""},
		{4, strings.Repeat("a", 10000), "", "", ""},
		{4, strings.ToUpper(adopted[0]), "", "", ""},
		{5, adopted[0], "", strings.Repeat("r", 300), ""},
		{5, adopted[0], "", "a/b", ""},
		{0, "", "1;all_tenants=1", "", "1"},
	} {
		f.Add(seed.route, seed.id, seed.limit, seed.marker, seed.allTenants)
	}
	f.Fuzz(func(t *testing.T, route uint8, id, limit, marker, allTenants string) {
		q := url.Values{}
		for name, v := range map[string]string{"limit": limit, "marker": marker, "all_tenants": allTenants} {
			if v != "" {
				q.Set(name, v)
			}
		}
		method, path := http.MethodGet, "/v1/servers"
		switch route % 6 {
		case 1:
			path = "/v1/servers/detail"
		case 2:
			path, q = "/v1/servers/"+id, nil
		case 3:
			method, path, q = http.MethodPost, "/v1/servers/"+id+"/unmanage", nil
		case 4:
			path, q = "/v1/servers/"+id+"/actions", nil
		case 5: // the marker stands for the request id
			path, q = "/v1/servers/"+id+"/actions/"+url.PathEscape(marker), nil
		}
		h.check(t, method+" "+path+"?"+q.Encode(), h.serve(t.Context(), method, path, q, ""))
	})
}
