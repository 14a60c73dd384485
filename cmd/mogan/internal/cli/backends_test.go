package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tableRows reads a table the CLI printed: the header, then one row per
// line, cells trimmed.
func tableRows(t *testing.T, out string) [][]string {
	t.Helper()
	var rows [][]string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i, c := range cells {
			cells[i] = strings.TrimSpace(c)
		}
		rows = append(rows, cells)
	}
	if len(rows) == 0 {
		t.Fatalf("no table in %q", out)
	}
	return rows
}

// column is one column of a table, keyed by the first column.
func column(t *testing.T, rows [][]string, name string) map[string]string {
	t.Helper()
	at := -1
	for i, h := range rows[0] {
		if h == name {
			at = i
		}
	}
	if at < 0 {
		t.Fatalf("no column %s in %q", name, rows[0])
	}
	out := map[string]string{}
	for _, r := range rows[1:] {
		out[r[0]] = r[at]
	}
	return out
}

// TestManageableListBackend: --backend becomes ?backend=, an unknown one
// is the API's 400 (exit 1), and the table shows each node's backend.
func TestManageableListBackend(t *testing.T) {
	for name, tc := range map[string]struct {
		args      []string
		wantQuery string
		wantCode  int
		// node → its BACKEND cell
		want    map[string]string
		wantErr string
	}{
		"every backend": {
			want: map[string]string{nodeA: "east", nodeB: "west", nodeE: "east", nodeF: "west"},
		},
		"one backend": {
			args:      []string{"--backend", "west"},
			wantQuery: "backend=west",
			want:      map[string]string{nodeB: "west", nodeF: "west"},
		},
		"with the other filters": {
			args:      []string{"--backend", "east", "--all", "--resource-class", "gold"},
			wantQuery: "all=true&backend=east&resource_class=gold",
			want:      map[string]string{nodeA: "east", nodeC: "east", nodeE: "east"},
		},
		"unknown backend": {
			args:      []string{"--backend", "north"},
			wantQuery: "backend=north",
			wantCode:  ExitFailed,
			wantErr:   `Unknown backend "north": the backends are east, west. (HTTP 400, request req-fake)`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			fake := newFake()
			fake.nodes[2]["manageable"] = false // nodeC: only with --all
			srv := fake.serve(t)
			code, stdout, stderr := run{}.mogan(t, append([]string{"manageable", "list", "--url", srv.URL}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("exit %d stderr %q; want %d with %q", code, stderr, tc.wantCode, tc.wantErr)
			}
			if diff := cmp.Diff([]string{tc.wantQuery}, fake.listed); diff != "" {
				t.Errorf("listing queries (-want +got):\n%s", diff)
			}
			if tc.wantCode != ExitOK {
				return
			}
			if diff := cmp.Diff(tc.want, column(t, tableRows(t, stdout), "BACKEND")); diff != "" {
				t.Errorf("BACKEND column (-want +got):\n%s", diff)
			}
		})
	}
}

// TestManageableListBackendJSON: -f json carries backend as the API
// gives it, and a listing of an API without backends has no such key.
func TestManageableListBackendJSON(t *testing.T) {
	for name, tc := range map[string]struct {
		drop bool // an API without backends
		want map[string]any
	}{
		"with backends":    {want: map[string]any{nodeA: "east", nodeB: "west"}},
		"without backends": {drop: true, want: map[string]any{nodeA: nil, nodeB: nil}},
	} {
		t.Run(name, func(t *testing.T) {
			fake := newFake()
			fake.nodes = fake.nodes[:2]
			if tc.drop {
				for _, n := range fake.nodes {
					delete(n, "backend")
				}
			}
			srv := fake.serve(t)
			code, stdout, stderr := run{}.mogan(t, "manageable", "list", "--url", srv.URL, "-f", "json")
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var nodes []map[string]any
			if err := json.Unmarshal([]byte(stdout), &nodes); err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for _, n := range nodes {
				backend, ok := n["backend"]
				if ok != !tc.drop {
					t.Errorf("node %v: has backend %v; want %v", n["uuid"], ok, !tc.drop)
				}
				got[n["uuid"].(string)] = backend
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("backends (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAdoptBackend: --backend names the backend in every manage body and
// limits the listing the nodes come from; without it no body names one
// (the API finds each node).
func TestAdoptBackend(t *testing.T) {
	const unlisted = "99999999-0000-0000-0000-000000000009"
	for name, tc := range map[string]struct {
		args       []string
		wantCode   int
		wantListed []string
		wantPosted []map[string]any
		wantErr    string
	}{
		"named nodes, no backend": {
			args:       []string{nodeA, nodeB},
			wantListed: []string{"all=true"},
			wantPosted: []map[string]any{
				{"node_uuid": nodeA, "name": "web-1"},
				{"node_uuid": nodeB, "name": nodeB},
			},
		},
		"named nodes from one backend": {
			args:       []string{"--backend", "east", nodeA},
			wantListed: []string{"all=true&backend=east"},
			wantPosted: []map[string]any{{"node_uuid": nodeA, "name": "web-1", "backend": "east"}},
		},
		"--all from one backend": {
			args:       []string{"--all", "--backend", "west"},
			wantCode:   ExitFailed, // nodeF is refused
			wantListed: []string{"backend=west"},
			wantPosted: []map[string]any{
				{"node_uuid": nodeB, "name": nodeB, "backend": "west"},
				{"node_uuid": nodeF, "name": "f", "backend": "west"},
			},
		},
		"--all from one backend and resource class": {
			args:       []string{"--all", "--backend", "west", "--resource-class", "silver"},
			wantListed: []string{"backend=west&resource_class=silver"},
			wantPosted: []map[string]any{{"node_uuid": nodeB, "name": nodeB, "backend": "west"}},
		},
		"the template sees the backend": {
			args:       []string{"--name-template", "{{.backend}}-{{.uuid}}", nodeB},
			wantListed: []string{"all=true"},
			wantPosted: []map[string]any{{"node_uuid": nodeB, "name": "west-" + nodeB}},
		},
		"a node the listing lacks has --backend's": {
			args:       []string{"--backend", "east", "--name-template", "{{.backend}}", unlisted},
			wantListed: []string{"all=true&backend=east"},
			wantPosted: []map[string]any{{"node_uuid": unlisted, "name": "east", "backend": "east"}},
		},
		"unknown backend": {
			args:       []string{"--backend", "north", nodeA},
			wantCode:   ExitFailed,
			wantListed: []string{"all=true&backend=north"},
			wantErr:    `Unknown backend "north"`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			fake := newFake()
			srv := fake.serve(t)
			args := append([]string{"adopt", "--url", srv.URL, "-f", "json", "--concurrency", "1"}, tc.args...)
			code, _, stderr := run{}.mogan(t, args...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("exit %d stderr %q; want %d with %q", code, stderr, tc.wantCode, tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantListed, fake.listed); diff != "" {
				t.Errorf("listing queries (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantPosted, fake.posted); diff != "" {
				t.Errorf("manage bodies (-want +got):\n%s", diff)
			}
		})
	}
}

// TestServerBackend: server list has a BACKEND column, server show a
// backend row, -f json the field as the API gives it; a server of an
// API without backends shows an empty cell and no key.
func TestServerBackend(t *testing.T) {
	const older = "5e7e0000-0000-0000-0000-0000000000aa"
	fake := newFake()
	fake.servers = append(fake.servers, map[string]any{"uuid": older, "node_uuid": nodeA, "status": "active"})
	srv := fake.serve(t)
	for name, tc := range map[string]struct {
		args  []string
		check func(t *testing.T, stdout string)
	}{
		"list": {
			args: []string{"server", "list"},
			check: func(t *testing.T, stdout string) {
				want := map[string]string{heldD: "west", older: ""}
				if diff := cmp.Diff(want, column(t, tableRows(t, stdout), "BACKEND")); diff != "" {
					t.Errorf("BACKEND column (-want +got):\n%s", diff)
				}
			},
		},
		"show": {
			args: []string{"server", "show", heldD},
			check: func(t *testing.T, stdout string) {
				if got := column(t, tableRows(t, stdout), "VALUE")["backend"]; got != "west" {
					t.Errorf("backend row %q; want west:\n%s", got, stdout)
				}
			},
		},
		"list json": {
			args: []string{"server", "list", "-f", "json"},
			check: func(t *testing.T, stdout string) {
				var servers []map[string]any
				if err := json.Unmarshal([]byte(stdout), &servers); err != nil {
					t.Fatal(err)
				}
				got := map[string]any{}
				for _, s := range servers {
					if b, ok := s["backend"]; ok {
						got[s["uuid"].(string)] = b
					}
				}
				if diff := cmp.Diff(map[string]any{heldD: "west"}, got); diff != "" {
					t.Errorf("backends (-want +got):\n%s", diff)
				}
			},
		},
		"show json": {
			args: []string{"server", "show", heldD, "-f", "json"},
			check: func(t *testing.T, stdout string) {
				var s map[string]any
				if err := json.Unmarshal([]byte(stdout), &s); err != nil {
					t.Fatal(err)
				}
				if s["backend"] != "west" {
					t.Errorf("backend %v; want west", s["backend"])
				}
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := run{env: map[string]string{"MOGAN_URL": srv.URL}}.mogan(t, tc.args...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			tc.check(t, stdout)
		})
	}
}
