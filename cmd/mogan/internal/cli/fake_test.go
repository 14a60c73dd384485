package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeAPI is a Mogan API in memory, for the CLI's unit tests; the e2e
// tests in host/e2e run the built binary against the real host.
type fakeAPI struct {
	mu       sync.Mutex
	nodes    []map[string]any           // the manageable listing (all=true)
	backends []string                   // the backends ?backend= may name
	servers  []map[string]any           // GET /v1/servers/detail
	refuse   map[string]int             // node uuid → status of a refused manage
	raceHold map[string]string          // node uuid → server that appears holding it after a 409
	posted   []map[string]any           // manage bodies, in arrival order
	listed   []string                   // the query of each listing, in arrival order
	block    chan struct{}              // when set, manage waits for it to close
	started  chan string                // when set, gets each node whose manage arrived
	auth     func(r *http.Request) bool // nil: noauth
	dryRuns  int
	// noDryRun is an older API: it ignores dry_run and adopts.
	noDryRun bool
	// mig is the migrations API (migrate_fake_test.go); nil: none.
	mig *fakeMigrations
}

func (f *fakeAPI) serve(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

func fault(w http.ResponseWriter, status int, msg string) {
	inner, _ := json.Marshal(map[string]any{"faultcode": "Client", "faultstring": msg, "debuginfo": nil})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Openstack-Request-Id", "req-fake")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error_message": string(inner)})
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.auth != nil && !f.auth(r) {
		fault(w, http.StatusUnauthorized, "The request you have made requires authentication.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if f.mig != nil && (strings.HasPrefix(r.URL.Path, "/v1/migrations") || r.URL.Path == "/v1/backends") {
		f.mig.serve(w, r)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/manageable_servers":
		f.listed = append(f.listed, r.URL.RawQuery)
		backend := r.URL.Query().Get("backend")
		if backend != "" && !slices.Contains(f.backends, backend) {
			fault(w, http.StatusBadRequest, fmt.Sprintf("Unknown backend %q: the backends are %s.", backend, strings.Join(f.backends, ", ")))
			return
		}
		var out []map[string]any
		for _, n := range f.nodes {
			if backend != "" && n["backend"] != backend {
				continue
			}
			if r.URL.Query().Get("all") != "true" && n["manageable"] == false {
				continue
			}
			if rc := r.URL.Query().Get("resource_class"); rc != "" && n["resource_class"] != rc {
				continue
			}
			out = append(out, n)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"manageable_servers": out})
	case r.Method == http.MethodGet && r.URL.Path == "/v1/servers/detail":
		_ = json.NewEncoder(w).Encode(map[string]any{"servers": f.servers})
	case r.Method == http.MethodPost && r.URL.Path == "/v1/manageable_servers":
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		node, _ := body["node_uuid"].(string)
		dry := r.URL.Query().Get("dry_run") == "true" && !f.noDryRun
		if !dry {
			f.posted = append(f.posted, body)
		}
		if f.started != nil {
			f.started <- node
		}
		if f.block != nil {
			f.mu.Unlock()
			<-f.block
			f.mu.Lock()
		}
		if status, ok := f.refuse[node]; ok {
			if held, ok := f.raceHold[node]; ok {
				f.servers = append(f.servers, map[string]any{"uuid": held, "node_uuid": node, "status": "active"})
			}
			fault(w, status, fmt.Sprintf("Node %s refused by the fake.", node))
			return
		}
		if dry {
			f.dryRuns++
			_ = json.NewEncoder(w).Encode(map[string]any{"dry_run": true, "server": map[string]any{"uuid": nil, "name": body["name"]}, "ports_to_bind": []any{}, "image_uuid": nil})
			return
		}
		id := "5e7e0000" + node[min(8, len(node)):] // one node, one server uuid
		srv := map[string]any{"uuid": id, "name": body["name"], "node_uuid": node, "status": "active", "backend": f.backendOf(node, body)}
		f.servers = append(f.servers, srv)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(srv)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/servers/"):
		id := strings.TrimPrefix(r.URL.Path, "/v1/servers/")
		for _, s := range f.servers {
			if s["uuid"] == id {
				_ = json.NewEncoder(w).Encode(s)
				return
			}
		}
		fault(w, http.StatusNotFound, fmt.Sprintf("Server %s could not be found.", id))
	default:
		fault(w, http.StatusNotFound, "The resource could not be found.")
	}
}

// backendOf is the backend a manage body adopts from: its own, else the
// listed node's.
func (f *fakeAPI) backendOf(node string, body map[string]any) any {
	if b, ok := body["backend"]; ok {
		return b
	}
	for _, n := range f.nodes {
		if n["uuid"] == node {
			return n["backend"]
		}
	}
	return nil
}

// node is a manageable listing entry of backend.
func node(uuid, name, backend, rc string) map[string]any {
	n := map[string]any{"uuid": uuid, "name": name, "backend": backend, "resource_class": rc, "power_state": "power on", "provision_state": "active"}
	if name == "" {
		n["name"] = nil
	}
	return n
}

// run is `mogan args…` in-process against env vars; it returns the exit
// code, stdout and stderr.
type run struct {
	env        map[string]string
	interrupts chan os.Signal
	password   func(string) (string, error)
	stderr     *syncBuffer // nil: a buffer of its own
}

// syncBuffer is a buffer a test reads while the command writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (r run) mogan(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout bytes.Buffer
	stderr := r.stderr
	if stderr == nil {
		stderr = &syncBuffer{}
	}
	interrupts := r.interrupts
	if interrupts == nil {
		interrupts = make(chan os.Signal)
	}
	env := Env{
		Stdout: &stdout, Stderr: stderr,
		Getenv:       func(k string) string { return r.env[k] },
		ReadPassword: r.password,
		Interrupts:   func() (<-chan os.Signal, func()) { return interrupts, func() {} },
	}
	code := Main(context.Background(), args, env)
	return code, stdout.String(), stderr.String()
}
