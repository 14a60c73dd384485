package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// fakeMigrations is the migrations API of fakeAPI: POST with idempotency
// keys, a migration that goes pending → running → its planned end at
// each read, retry, cancel, the listing, export and GET /v1/backends. It
// runs under fakeAPI's lock.
type fakeMigrations struct {
	backends []map[string]any // GET /v1/backends; nil: 404 (an older API)
	// plan says how a machine's (or node's) migration ends: "done"
	// (default), "failed", "rolled_back", "hold" (running until released),
	// or "refuse NNN" (the POST is refused with that status).
	plan     map[string]string
	released map[string]bool // "hold" migrations that may now end
	exports  map[string]map[string]any
	noDryRun bool

	migrations []*fakeMigration // in creation order
	bodies     [][]byte         // every POST body, in arrival order (dry runs too)
	dryRuns    int
	started    chan string // when set, gets the label of each POST
	gets       int
	// getFails is how many GETs of a migration answer 503 before one
	// succeeds (the API restarting).
	getFails int
}

type fakeMigration struct {
	label string
	key   string
	body  map[string]any // without secrets
	view  map[string]any
	reads int
	end   string
}

func newFakeMigrations() *fakeMigrations {
	return &fakeMigrations{
		backends: []map[string]any{
			{"name": "old", "driver": "ironic", "version": "1", "capabilities": []string{"discover", "adopt", "export", "release"}, "status": "up"},
			{"name": "new", "driver": "ironic", "version": "1", "capabilities": []string{"discover", "adopt", "enroll", "export", "release"}, "status": "up"},
			{"name": "none", "driver": "noop", "version": "1", "capabilities": []string{}, "status": "up"},
		},
		plan:     map[string]string{},
		released: map[string]bool{},
		exports:  map[string]map[string]any{},
	}
}

// label is what a request migrates: the machine's name or the node.
func label(body map[string]any) string {
	src, _ := body["source"].(map[string]any)
	if m, ok := src["machine"].(map[string]any); ok {
		name, _ := m["name"].(string)
		return name
	}
	n, _ := src["node_uuid"].(string)
	return n
}

func (f *fakeMigrations) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/v1/migrations")
	switch {
	case r.URL.Path == "/v1/backends":
		if f.backends == nil {
			fault(w, http.StatusNotFound, "The resource could not be found.")
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"backends": f.backends})
	case r.Method == http.MethodPost && path == "":
		f.create(w, r)
	case r.Method == http.MethodGet && path == "":
		f.list(w, r)
	case r.Method == http.MethodGet && path == "/export":
		q := r.URL.Query()
		m, ok := f.exports[q.Get("node_uuid")]
		if !ok || q.Get("backend") != "old" {
			fault(w, http.StatusNotFound, fmt.Sprintf("Node %s could not be found in backend %s.", q.Get("node_uuid"), q.Get("backend")))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"machine": m})
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/retry"):
		m := f.find(strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/retry"))
		switch {
		case m == nil:
			fault(w, http.StatusNotFound, "Migration could not be found.")
		case m.view["status"] != "failed":
			fault(w, http.StatusConflict, fmt.Sprintf("Migration %s is %s: only a failed one is retried.", m.view["uuid"], m.view["status"]))
		default:
			m.view["status"], m.end = "running", "done"
			w.WriteHeader(http.StatusAccepted)
			_ = json.NewEncoder(w).Encode(m.view)
		}
	case r.Method == http.MethodDelete:
		m := f.find(strings.TrimPrefix(path, "/"))
		switch {
		case m == nil:
			fault(w, http.StatusNotFound, "Migration could not be found.")
		case m.view["status"] == "pending" || m.view["status"] == "running":
			m.view["status"] = "rolled_back"
			w.WriteHeader(http.StatusAccepted)
		default:
			fault(w, http.StatusConflict, fmt.Sprintf("Migration %s is %s: it cannot be cancelled.", m.view["uuid"], m.view["status"]))
		}
	case r.Method == http.MethodGet:
		f.gets++
		if f.getFails > 0 {
			f.getFails--
			fault(w, http.StatusServiceUnavailable, "The service is restarting.")
			return
		}
		m := f.find(strings.TrimPrefix(path, "/"))
		if m == nil {
			fault(w, http.StatusNotFound, "Migration could not be found.")
			return
		}
		m.advance(f.released[m.label])
		_ = json.NewEncoder(w).Encode(m.view)
	default:
		fault(w, http.StatusNotFound, "The resource could not be found.")
	}
}

func (f *fakeMigrations) find(id string) *fakeMigration {
	for _, m := range f.migrations {
		if m.view["uuid"] == id {
			return m
		}
	}
	return nil
}

func (f *fakeMigrations) create(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	f.bodies = append(f.bodies, raw)
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		fault(w, http.StatusBadRequest, "not JSON")
		return
	}
	name := label(body)
	if f.started != nil {
		f.started <- name
	}
	plan := f.plan[name]
	if status, ok := strings.CutPrefix(plan, "refuse "); ok {
		code, _ := strconv.Atoi(status)
		fault(w, code, fmt.Sprintf("Machine %s refused by the fake.", name))
		return
	}
	dry := r.URL.Query().Get("dry_run") == "true" && !f.noDryRun
	if dry {
		f.dryRuns++
		_ = json.NewEncoder(w).Encode(map[string]any{"dry_run": true, "node": map[string]any{"name": name}})
		return
	}
	key, _ := body["idempotency_key"].(string)
	delete(body, "secrets")
	for _, m := range f.migrations {
		if m.key != key || m.view["status"] == "rolled_back" {
			continue
		}
		a, _ := json.Marshal(m.body)
		b, _ := json.Marshal(body)
		if !bytes.Equal(a, b) {
			fault(w, http.StatusConflict, "Idempotency key "+key+" was used with another body.")
			return
		}
		_ = json.NewEncoder(w).Encode(m.view)
		return
	}
	n := len(f.migrations) + 1
	end := plan
	if end == "" {
		end = "done"
	}
	m := &fakeMigration{label: name, key: key, body: body, end: end, view: map[string]any{
		"uuid": fmt.Sprintf("00000000-0000-0000-0000-%012d", n), "status": "pending",
		"source": body["source"], "target": body["target"], "node_uuid": nil, "server_uuid": nil,
		"steps": []any{}, "request_id": fmt.Sprintf("req-%d", n), "created_at": fmt.Sprintf("2026-01-01T00:00:%02dZ", n), "updated_at": nil,
	}}
	f.migrations = append(f.migrations, m)
	w.Header().Set("Location", "/v1/migrations/"+m.view["uuid"].(string))
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(m.view)
}

// advance moves a migration on at a read: pending → running → its end.
func (m *fakeMigration) advance(released bool) {
	m.reads++
	switch m.view["status"] {
	case "pending":
		m.view["status"] = "running"
	case "running":
		if m.end == "hold" && !released {
			return
		}
		node := "40de0000-0000-0000-0000-" + strings.TrimPrefix(m.view["uuid"].(string), "00000000-0000-0000-0000-")
		steps := []any{map[string]any{"name": "ports", "status": "done"}, map[string]any{"name": "enroll", "status": "done"}}
		switch m.end {
		case "failed":
			m.view["node_uuid"] = node
			steps = append(steps, map[string]any{"name": "adopt", "status": "failed", "error": "Neutron said no"})
		case "rolled_back":
			steps[1] = map[string]any{"name": "enroll", "status": "undone", "error": "MAC 52:54:00:00:00:01 already in Ironic"}
		default:
			m.view["node_uuid"] = node
			if _, ok := m.body["server"]; ok {
				m.view["server_uuid"] = "5e7e0000-0000-0000-0000-" + strings.TrimPrefix(m.view["uuid"].(string), "00000000-0000-0000-0000-")
				steps = append(steps, map[string]any{"name": "adopt", "status": "done"})
			}
		}
		m.view["steps"] = steps
		m.view["status"] = map[string]string{"hold": "done", "done": "done", "failed": "failed", "rolled_back": "rolled_back"}[m.end]
	}
}

func (f *fakeMigrations) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	var out []map[string]any
	past := q.Get("marker") == ""
	for i := len(f.migrations) - 1; i >= 0; i-- { // newest first
		m := f.migrations[i]
		if !past {
			past = m.view["uuid"] == q.Get("marker")
			continue
		}
		if s := q.Get("status"); s != "" && m.view["status"] != s {
			continue
		}
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, m.view)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"migrations": out})
}
