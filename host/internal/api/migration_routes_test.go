package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
)

// TestMigrationDryRun: ?dry_run=true answers 200 with what the migration
// would create where — target, node uuid, the machine (its secrets named,
// never their values), each NIC's Neutron port to create or reuse, the
// server — and changes nothing: no migration, no node, no port.
func TestMigrationDryRun(t *testing.T) {
	const reused = "44444444-0000-4000-8000-000000000001"
	type port struct {
		Action     string   `json:"action"`
		MACAddress string   `json:"mac_address"`
		NetworkID  string   `json:"network_id"`
		FixedIPs   []string `json:"fixed_ips"`
		PortID     *string  `json:"port_id"`
	}
	type plan struct {
		DryRun bool `json:"dry_run"`
		Source struct {
			Machine *struct {
				Name *string `json:"name"`
			} `json:"machine"`
			Backend  string `json:"backend"`
			NodeUUID string `json:"node_uuid"`
		} `json:"source"`
		Target struct {
			Backend string `json:"backend"`
		} `json:"target"`
		NodeUUID string         `json:"node_uuid"`
		Machine  map[string]any `json:"machine"`
		Ports    []port         `json:"ports"`
		Server   *struct {
			Name        string            `json:"name"`
			Description *string           `json:"description"`
			Metadata    map[string]string `json:"metadata"`
			ProjectID   *string           `json:"project_id"`
			UserID      *string           `json:"user_id"`
		} `json:"server"`
	}
	tests := map[string]struct {
		body       doc
		setup      func(mh *migrationHarness)
		wantPorts  []port
		wantServer bool
		handoff    bool
	}{
		"a machine, its port created": {
			body:      inventoryBody("db-03", macA),
			wantPorts: []port{{Action: "create", MACAddress: macA, NetworkID: netProv, FixedIPs: []string{ipOf(macA)}}},
		},
		"a machine, its port reused, adopted": {
			body: inventoryBody("db-03", macA).with("server", doc{"name": "db-03", "description": "the db"}),
			setup: func(mh *migrationHarness) {
				mh.networks.add(neutron.Port{ID: reused, NetworkID: netProv, MACAddress: macA,
					FixedIPs: []neutron.FixedIP{{IPAddress: ipOf(macA)}}})
			},
			wantPorts:  []port{{Action: "reuse", MACAddress: macA, NetworkID: netProv, FixedIPs: []string{ipOf(macA)}, PortID: ptr(reused)}},
			wantServer: true,
		},
		"a source backend's node": {
			body:      handoffBody(sourceNode),
			setup:     activeSource,
			wantPorts: []port{{Action: "create", MACAddress: macB, NetworkID: netProv, FixedIPs: []string{}}},
			handoff:   true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			mh := newMigrationHarness(t)
			if tc.setup != nil {
				tc.setup(mh)
			}
			eastBefore, _ := mh.east.node(sourceNode)
			portsBefore := mh.networks.portIDs()
			r := mh.postJSON(t, "/v1/migrations?dry_run=true", tc.body.String())
			if r.status != http.StatusOK {
				t.Fatalf("dry run: %d %s", r.status, r.body)
			}
			if r.header.Get("Location") != "" {
				t.Errorf("a dry run answered Location %q", r.header.Get("Location"))
			}
			var p plan
			dec := json.NewDecoder(bytes.NewReader(r.body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&p); err != nil {
				t.Fatalf("plan %s: %v", r.body, err)
			}
			if !p.DryRun || p.Target.Backend != "west" || p.NodeUUID == "" {
				t.Errorf("plan = %s", r.body)
			}
			if tc.handoff {
				if p.Source.Backend != "east" || p.Source.NodeUUID != sourceNode || p.NodeUUID != sourceNode || p.Source.Machine != nil {
					t.Errorf("source = %+v, node %s; want east's node, its uuid kept", p.Source, p.NodeUUID)
				}
			} else if p.Source.Machine == nil || *p.Source.Machine.Name != "db-03" {
				t.Errorf("source = %+v; want the machine db-03", p.Source)
			}
			if diff := cmp.Diff([]any{"redfish_password"}, p.Machine["secrets"]); diff != "" {
				t.Errorf("machine's secrets (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantPorts, p.Ports); diff != "" {
				t.Errorf("ports (-want +got):\n%s", diff)
			}
			if (p.Server != nil) != tc.wantServer {
				t.Errorf("server = %+v; want one: %v", p.Server, tc.wantServer)
			} else if p.Server != nil && (p.Server.Name != "db-03" || p.Server.Metadata == nil || p.Server.ProjectID != nil) {
				t.Errorf("server = %+v", p.Server)
			}
			if bytes.Contains(r.body, []byte(secret)) {
				t.Error("the plan holds the secret")
			}
			assertNoMigration(t, mh)
			if n := mh.west.count(); n != 0 {
				t.Errorf("west has %d nodes", n)
			}
			if got := mh.networks.portIDs(); !slices.Equal(got, portsBefore) {
				t.Errorf("Neutron ports %v; were %v", got, portsBefore)
			}
			if after, _ := mh.east.node(sourceNode); !cmp.Equal(eastBefore, after, cmp.AllowUnexported(cloudNode{})) {
				t.Errorf("east's node %+v; was %+v", after, eastBefore)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestMigrationIdempotencyKey: the key with the same body is 200 and that
// migration (secrets not compared), also once it is done; with another
// body 409; a rolled-back migration's key is free again (202, a new one).
func TestMigrationIdempotencyKey(t *testing.T) {
	mh := newMigrationHarness(t)
	body := inventoryBody("db-04", macA).with("idempotency_key", "sha256:0af1")
	first := mh.migrate(t, body.String(), http.StatusAccepted)

	again := mh.postJSON(t, "/v1/migrations", body.with("secrets.redfish_password", "another").String())
	if again.status != http.StatusOK || decodeMigration(t, again).UUID != first.UUID {
		t.Fatalf("the same key and body: %d %s; want 200 and migration %s", again.status, again.body, first.UUID)
	}
	if got := again.header.Get("Location"); got != mh.url+"/v1/migrations/"+first.UUID {
		t.Errorf("Location = %q", got)
	}
	other := mh.postJSON(t, "/v1/migrations", body.with("source.machine.resource_class", "silver").String())
	if other.status != http.StatusConflict || !strings.Contains(faultString(t, other), "The idempotency key names migration "+first.UUID) {
		t.Errorf("the same key, another body: %d %s; want 409 naming the migration", other.status, other.body)
	}
	mh.wait(t, first.UUID)
	if r := mh.postJSON(t, "/v1/migrations", body.String()); r.status != http.StatusOK || decodeMigration(t, r).Status != "done" {
		t.Errorf("the same key once done: %d %s; want 200 with it, done", r.status, r.body)
	}

	// A migration that rolls back (west already has a node of that name)
	// frees its key.
	clash := inventoryBody("db-04", macB).with("idempotency_key", "sha256:0af2")
	rolled := mh.wait(t, mh.migrate(t, clash.String(), http.StatusAccepted).UUID)
	if rolled.Status != "rolled_back" || rolled.Error == nil || !strings.Contains(*rolled.Error, "a node named db-04 exists") {
		t.Fatalf("clashing migration = %s (%v); want rolled_back naming the clash", rolled.Status, rolled.Error)
	}
	mh.west.set(func(c *cloud) { delete(c.nodes, first.NodeUUID) })
	if again := mh.migrate(t, clash.String(), http.StatusAccepted); again.UUID == rolled.UUID {
		t.Error("a rolled-back migration's key answered that migration")
	}
}

// TestListMigrations: newest first; ?status= filters (another value is
// 400 naming the valid ones); limit and marker page as the servers
// listing does, with a migrations_links next link that keeps the filter.
func TestListMigrations(t *testing.T) {
	mh := newMigrationHarness(t)
	var made []string
	for i, mac := range []string{macA, macB, "52:54:00:00:10:03"} {
		m := mh.migrate(t, inventoryBody("db-1"+string(rune('0'+i)), mac).String(), http.StatusAccepted)
		mh.wait(t, m.UUID)
		made = append(made, m.UUID)
	}
	newestFirst := []string{made[2], made[1], made[0]}
	type listing struct {
		Migrations []migrationBody `json:"migrations"`
		Links      []struct {
			Href string `json:"href"`
			Rel  string `json:"rel"`
		} `json:"migrations_links"`
	}
	list := func(t *testing.T, path string) listing {
		t.Helper()
		r := mh.get(t, path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		var l listing
		dec := json.NewDecoder(bytes.NewReader(r.body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("GET %s: %s: %v", path, r.body, err)
		}
		return l
	}
	uuids := func(l listing) []string {
		out := []string{}
		for _, m := range l.Migrations {
			out = append(out, m.UUID)
		}
		return out
	}
	t.Run("all", func(t *testing.T) {
		l := list(t, "/v1/migrations")
		if diff := cmp.Diff(newestFirst, uuids(l)); diff != "" || l.Links != nil {
			t.Errorf("listing (-want +got):\n%s links %v", diff, l.Links)
		}
	})
	t.Run("status", func(t *testing.T) {
		if got := uuids(list(t, "/v1/migrations?status=done")); !cmp.Equal(newestFirst, got) {
			t.Errorf("done: %v", got)
		}
		for _, s := range []string{"pending", "running", "failed", "rolled_back"} {
			if got := uuids(list(t, "/v1/migrations?status="+s)); len(got) != 0 {
				t.Errorf("%s: %v", s, got)
			}
		}
	})
	t.Run("pages", func(t *testing.T) {
		page := list(t, "/v1/migrations?status=done&limit=2")
		if diff := cmp.Diff(newestFirst[:2], uuids(page)); diff != "" {
			t.Fatalf("first page (-want +got):\n%s", diff)
		}
		if len(page.Links) != 1 || page.Links[0].Rel != "next" {
			t.Fatalf("links = %+v; want a next link", page.Links)
		}
		next, err := url.Parse(page.Links[0].Href)
		if err != nil || next.Path != "/v1/migrations" || next.Query().Get("marker") != newestFirst[1] ||
			next.Query().Get("status") != "done" || next.Query().Get("limit") != "2" {
			t.Fatalf("next link %q; want the marker %s, the status and the limit kept", page.Links[0].Href, newestFirst[1])
		}
		last := list(t, next.RequestURI())
		if diff := cmp.Diff(newestFirst[2:], uuids(last)); diff != "" || last.Links != nil {
			t.Errorf("last page (-want +got):\n%s links %v", diff, last.Links)
		}
	})
	refusals := map[string]string{
		"?status=active":             `Invalid value for status: "active". It must be one of pending, running, done, failed, rolled_back.`,
		"?status=done&status=failed": "Invalid value for status: given 2 times",
		"?status=":                   "Invalid value for status: no value given",
		"?limit=0":                   "Invalid value for limit",
		"?marker=x":                  `Invalid value for marker: "x" is not a UUID.`,
		"?marker=" + sourceNode:      "Marker " + sourceNode + " could not be found.",
		"?sort_dir=asc":              `Unknown argument: "sort_dir". This route takes: limit, marker, status.`,
	}
	for query, want := range refusals {
		t.Run(query, func(t *testing.T) {
			r := mh.get(t, "/v1/migrations"+query)
			if r.status != http.StatusBadRequest || !strings.Contains(faultString(t, r), want) {
				t.Errorf("%d %s; want 400 %q", r.status, r.body, want)
			}
		})
	}
}

// TestMigrationNotFound: a {uuid} that is not a UUID, or names no
// migration, is 404 on every migration route, as show answers for servers.
func TestMigrationNotFound(t *testing.T) {
	mh := newMigrationHarness(t)
	long := strings.Repeat("x", 10<<10)
	tests := map[string]struct {
		method, path, want string
	}{
		"show unknown":         {http.MethodGet, "/v1/migrations/" + sourceNode, "Migration " + sourceNode + " could not be found."},
		"show not a uuid":      {http.MethodGet, "/v1/migrations/db-01", "Migration db-01 could not be found."},
		"show a long one":      {http.MethodGet, "/v1/migrations/" + long, "Migration " + long[:80] + "... could not be found."},
		"cancel unknown":       {http.MethodDelete, "/v1/migrations/" + sourceNode, "Migration " + sourceNode + " could not be found."},
		"cancel not a uuid":    {http.MethodDelete, "/v1/migrations/export", "Migration export could not be found."},
		"retry unknown":        {http.MethodPost, "/v1/migrations/" + sourceNode + "/retry", "Migration " + sourceNode + " could not be found."},
		"retry not a uuid":     {http.MethodPost, "/v1/migrations/12/retry", "Migration 12 could not be found."},
		"a uuid in upper case": {http.MethodGet, "/v1/migrations/" + strings.ToUpper(sourceNode), "Migration " + sourceNode + " could not be found."},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := mh.do(t, tc.method, tc.path, "", nil)
			if r.status != http.StatusNotFound || faultString(t, r) != tc.want {
				t.Errorf("%d %s; want 404 %q", r.status, r.body, tc.want)
			}
		})
	}
}

// TestCancelMigration: DELETE is 202 with the migration while it can roll
// back, which leaves nothing behind; then 409 for a rolled-back, done or
// failed one, and for one whose commit is recorded (the source node
// released: only forward).
func TestCancelMigration(t *testing.T) {
	t.Run("rolls back", func(t *testing.T) {
		mh := newMigrationHarness(t)
		mh.west.set(func(c *cloud) { c.stuck = true })
		m := mh.migrate(t, inventoryBody("db-05", macA).String(), http.StatusAccepted)
		mh.waitStep(t, m.UUID, "enroll")
		r := mh.do(t, http.MethodDelete, "/v1/migrations/"+m.UUID, "", nil)
		if r.status != http.StatusAccepted || decodeMigration(t, r).UUID != m.UUID {
			t.Fatalf("DELETE: %d %s; want 202 with the migration", r.status, r.body)
		}
		end := mh.wait(t, m.UUID)
		if end.Status != "rolled_back" || end.Error == nil || !strings.Contains(*end.Error, "DELETE /v1/migrations") {
			t.Errorf("migration = %s %v; want rolled_back by the cancel", end.Status, end.Error)
		}
		if mh.west.count() != 0 || len(mh.networks.portIDs()) != 0 {
			t.Errorf("left behind: %d nodes, ports %v", mh.west.count(), mh.networks.portIDs())
		}
		r = mh.do(t, http.MethodDelete, "/v1/migrations/"+m.UUID, "", nil)
		if r.status != http.StatusConflict || !strings.Contains(faultString(t, r), "is rolled_back: only a pending or running one can be cancelled") {
			t.Errorf("DELETE again: %d %s; want 409", r.status, r.body)
		}
	})
	t.Run("done", func(t *testing.T) {
		mh := newMigrationHarness(t)
		m := mh.wait(t, mh.migrate(t, inventoryBody("db-06", macA).String(), http.StatusAccepted).UUID)
		r := mh.do(t, http.MethodDelete, "/v1/migrations/"+m.UUID, "", nil)
		if r.status != http.StatusConflict || !strings.Contains(faultString(t, r), "is done: only a pending or running one") {
			t.Errorf("DELETE a done one: %d %s; want 409", r.status, r.body)
		}
		if _, ok := mh.west.node(m.NodeUUID); !ok {
			t.Error("the node left the target")
		}
	})
	t.Run("failed", func(t *testing.T) {
		mh := newMigrationHarness(t)
		mh.west.set(func(c *cloud) { c.manageFails = true })
		m := mh.wait(t, mh.migrate(t, inventoryBody("db-07", macA).with("server", doc{"name": "db-07"}).String(), http.StatusAccepted).UUID)
		if m.Status != "failed" {
			t.Fatalf("migration = %s; want failed", m.Status)
		}
		r := mh.do(t, http.MethodDelete, "/v1/migrations/"+m.UUID, "", nil)
		if r.status != http.StatusConflict || !strings.Contains(faultString(t, r), "is failed") {
			t.Errorf("DELETE a failed one: %d %s; want 409", r.status, r.body)
		}
	})
	t.Run("committed", func(t *testing.T) {
		mh := newMigrationHarness(t)
		activeSource(mh)
		hold := make(chan struct{})
		mh.west.set(func(c *cloud) { c.holdManage = hold })
		m := mh.migrate(t, handoffBody(sourceNode).with("server", doc{"name": "web-01"}).String(), http.StatusAccepted)
		mh.waitStep(t, m.UUID, "adopt")
		r := mh.do(t, http.MethodDelete, "/v1/migrations/"+m.UUID, "", nil)
		close(hold)
		if r.status != http.StatusConflict || !strings.Contains(faultString(t, r), "has recorded its commit") {
			t.Errorf("DELETE past the commit: %d %s; want 409", r.status, r.body)
		}
		if end := mh.wait(t, m.UUID); end.Status != "done" {
			t.Errorf("migration = %s %v; want done", end.Status, end.Error)
		}
	})
}

// TestRetryMigration: a failed migration (its adoption failed; the node
// active and protected in the target) is 202 and runs its adoption again;
// a done one is 409.
func TestRetryMigration(t *testing.T) {
	mh := newMigrationHarness(t)
	mh.west.set(func(c *cloud) { c.manageFails = true })
	m := mh.wait(t, mh.migrate(t, inventoryBody("db-08", macA).with("server", doc{"name": "db-08"}).String(), http.StatusAccepted).UUID)
	if m.Status != "failed" || m.ServerUUID != nil {
		t.Fatalf("migration = %s %v; want failed", m.Status, m.steps())
	}
	mh.west.set(func(c *cloud) { c.manageFails = false })
	r := mh.postJSON(t, "/v1/migrations/"+m.UUID+"/retry", "")
	if r.status != http.StatusAccepted || decodeMigration(t, r).UUID != m.UUID {
		t.Fatalf("retry: %d %s; want 202 with the migration", r.status, r.body)
	}
	done := mh.wait(t, m.UUID)
	if done.Status != "done" || done.ServerUUID == nil {
		t.Fatalf("retried migration = %s %v (%v)", done.Status, done.steps(), done.Error)
	}
	r = mh.postJSON(t, "/v1/migrations/"+m.UUID+"/retry", "")
	if r.status != http.StatusConflict || !strings.Contains(faultString(t, r), "is done: only a failed migration can be retried") {
		t.Errorf("retry a done one: %d %s; want 409", r.status, r.body)
	}
}

// TestExportMachine: GET /v1/migrations/export answers a source backend's
// node as the inventory's machine (the masked fields named as secrets),
// and refuses a missing or malformed parameter, an unknown backend or
// node.
func TestExportMachine(t *testing.T) {
	mh := newMigrationHarness(t)
	activeSource(mh)
	r := mh.get(t, "/v1/migrations/export?backend=east&node_uuid="+sourceNode)
	if r.status != http.StatusOK {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	want := `{"machine":{"name":"web-01","driver":"redfish","driver_info":{"redfish_address":"https://bmc"},"secrets":["redfish_password"],` +
		`"ports":[{"mac":"` + macB + `","physical_network":"physnet1"}]}}`
	if diff := cmp.Diff(want, strings.TrimSpace(string(r.body))); diff != "" {
		t.Errorf("export (-want +got):\n%s", diff)
	}
	tests := map[string]struct {
		query  string
		status int
		want   string
	}{
		"no backend":       {"?node_uuid=" + sourceNode, 400, "Missing argument: backend"},
		"no node":          {"?backend=east", 400, "Missing argument: node_uuid"},
		"node not a uuid":  {"?backend=east&node_uuid=web-01", 400, `Invalid value for node_uuid: "web-01" is not a UUID.`},
		"unknown backend":  {"?backend=south&node_uuid=" + sourceNode, 400, `Unknown backend "south": the backends are`},
		"unknown node":     {"?backend=east&node_uuid=" + otherNode, 404, otherNode},
		"an extra one":     {"?backend=east&node_uuid=" + sourceNode + "&format=csv", 400, `Unknown argument: "format". This route takes: backend, node_uuid.`},
		"backend twice":    {"?backend=east&backend=west&node_uuid=" + sourceNode, 400, "Invalid value for backend: given 2 times"},
		"backend not UTF8": {"?backend=%ff&node_uuid=" + sourceNode, 400, "Invalid value for backend: not valid UTF-8."},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := mh.get(t, "/v1/migrations/export"+tc.query)
			if r.status != tc.status || !strings.Contains(faultString(t, r), tc.want) {
				t.Errorf("%d %s; want %d %q", r.status, r.body, tc.status, tc.want)
			}
		})
	}
}

// TestMigrationPolicy: every migration route is admin's by default: a
// member gets 403 before anything is read or done; an admin is served.
func TestMigrationPolicy(t *testing.T) {
	mh := newMigrationHarness(t, basicAuth(t))
	mh.user, mh.password = "admin", "adminpw" // for wait
	activeSource(mh)
	body := inventoryBody("db-09", macA).String()
	existing := mh.as(t, "admin", "adminpw", http.MethodPost, "/v1/migrations", body)
	if existing.status != http.StatusAccepted {
		t.Fatalf("admin POST: %d %s", existing.status, existing.body)
	}
	id := decodeMigration(t, existing).UUID
	mh.wait(t, id)
	routes := map[string]struct {
		method, path, body string
		admin              int
	}{
		"create":  {http.MethodPost, "/v1/migrations", inventoryBody("db-10", macB).String(), http.StatusAccepted},
		"dry run": {http.MethodPost, "/v1/migrations?dry_run=true", inventoryBody("db-11", "52:54:00:00:10:03").String(), http.StatusOK},
		"list":    {http.MethodGet, "/v1/migrations", "", http.StatusOK},
		"show":    {http.MethodGet, "/v1/migrations/" + id, "", http.StatusOK},
		"unknown": {http.MethodGet, "/v1/migrations/" + otherNode, "", http.StatusNotFound},
		"export":  {http.MethodGet, "/v1/migrations/export?backend=east&node_uuid=" + sourceNode, "", http.StatusOK},
		"retry":   {http.MethodPost, "/v1/migrations/" + id + "/retry", "", http.StatusConflict},
		"cancel":  {http.MethodDelete, "/v1/migrations/" + id, "", http.StatusConflict},
	}
	for name, tc := range routes {
		t.Run(name, func(t *testing.T) {
			mh.settle(t) // an admin's earlier migration calls the backends meanwhile
			calls := mh.calls()
			r := mh.as(t, "reader", "readerpw", tc.method, tc.path, tc.body)
			if r.status != http.StatusForbidden {
				t.Fatalf("member: %d %s; want 403", r.status, r.body)
			}
			if n := mh.calls() - calls; n != 0 {
				t.Errorf("the backends were called %d times for a refused member", n)
			}
			if r := mh.as(t, "admin", "adminpw", tc.method, tc.path, tc.body); r.status != tc.admin {
				t.Errorf("admin: %d %s; want %d", r.status, r.body, tc.admin)
			}
		})
	}
}

// TestMigrationQueryParameters: each migration route takes only its own
// parameters: another, or one without a value, is 400 naming it, before
// anything is done.
func TestMigrationQueryParameters(t *testing.T) {
	mh := newMigrationHarness(t)
	m := mh.wait(t, mh.migrate(t, inventoryBody("db-12", macA).String(), http.StatusAccepted).UUID)
	tests := map[string]struct {
		method, path, want string
	}{
		"create DRY_RUN":   {http.MethodPost, "/v1/migrations?DRY_RUN=true", `Unknown argument: "DRY_RUN" (did you mean "dry_run"?)`},
		"create bare":      {http.MethodPost, "/v1/migrations?dry_run", "Invalid value for dry_run: no value given"},
		"create maybe":     {http.MethodPost, "/v1/migrations?dry_run=maybe", `Invalid value for dry_run: "maybe". It must be true or false.`},
		"create twice":     {http.MethodPost, "/v1/migrations?dry_run=false&dry_run=true", "Invalid value for dry_run: given 2 times"},
		"list backend":     {http.MethodGet, "/v1/migrations?backend=west", `Unknown argument: "backend". This route takes: limit, marker, status.`},
		"show fields":      {http.MethodGet, "/v1/migrations/" + m.UUID + "?fields=uuid", `Unknown argument: "fields". This route takes no query parameters.`},
		"cancel force":     {http.MethodDelete, "/v1/migrations/" + m.UUID + "?force=1", `Unknown argument: "force". This route takes no query parameters.`},
		"retry from":       {http.MethodPost, "/v1/migrations/" + m.UUID + "/retry?step=adopt", `Unknown argument: "step". This route takes no query parameters.`},
		"export Node_UUID": {http.MethodGet, "/v1/migrations/export?backend=east&Node_UUID=x", `(did you mean "node_uuid"?)`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			calls := mh.calls()
			r := mh.do(t, tc.method, tc.path, "application/json", strings.NewReader(inventoryBody("db-13", macB).String()))
			if r.status != http.StatusBadRequest || !strings.Contains(faultString(t, r), tc.want) {
				t.Errorf("%d %s; want 400 %q", r.status, r.body, tc.want)
			}
			if n := mh.calls() - calls; n != 0 {
				t.Errorf("the backends were called %d times", n)
			}
		})
	}
	if got := mh.get(t, "/v1/migrations"); !bytes.Contains(got.body, []byte(m.UUID)) || bytes.Count(got.body, []byte(`"uuid"`)) != 1 {
		t.Errorf("migrations after the refusals: %s; want only %s", got.body, m.UUID)
	}
	// The methods the resources have.
	for path, allow := range map[string]string{
		"/v1/migrations":                      "GET, POST",
		"/v1/migrations/" + m.UUID:            "GET, DELETE",
		"/v1/migrations/" + m.UUID + "/retry": "POST",
		"/v1/migrations/export":               "GET, DELETE", // DELETE: export read as a {uuid}, then 404
	} {
		r := mh.do(t, http.MethodPut, path, "", nil)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != allow {
			t.Errorf("PUT %s: %d, Allow %q; want 405, %q", path, r.status, r.header.Get("Allow"), allow)
		}
	}
}

// TestVersionListsMigrations: GET /v1 lists the migrations resource beside
// servers and manageable_servers.
func TestVersionListsMigrations(t *testing.T) {
	mh := newMigrationHarness(t)
	v := decodeObject(t, mh.get(t, "/v1").body)
	want := []any{
		map[string]any{"href": mh.url + "/v1/migrations/", "rel": "self"},
		map[string]any{"href": mh.url + "/migrations/", "rel": "bookmark"},
	}
	if diff := cmp.Diff(want, v["migrations"]); diff != "" {
		t.Errorf("GET /v1 migrations (-want +got):\n%s", diff)
	}
}

// TestMigrationSecretNeverShown (issue 17, "Secrets"): a distinctive
// password, sent in every way a body can carry it — accepted, dry-run,
// replayed, refused by the schema (a value too long, under a bad name,
// with NUL, of the wrong type, secrets not an object, a body missing its
// source, a duplicated key), by the inventory's checks (a password in
// driver_info) and by the application layer — is in none of the answers
// (bodies and headers), none of the log lines at trace, and not in the
// database; it did reach the driver.
func TestMigrationSecretNeverShown(t *testing.T) {
	mh := newMigrationHarness(t)
	activeSource(mh)
	withSecret := func(v any) string { return inventoryBody("db-14", macA).with("secrets.redfish_password", v).String() }
	requests := []struct {
		method, path, body string
	}{
		{http.MethodPost, "/v1/migrations?dry_run=true", inventoryBody("db-14", macA).with("server", doc{"name": "db-14"}).String()},
		{http.MethodPost, "/v1/migrations", inventoryBody("db-14", macA).with("server", doc{"name": "db-14"}).with("idempotency_key", "k1").String()},
		{http.MethodPost, "/v1/migrations", inventoryBody("db-14", macA).with("server", doc{"name": "db-14"}).with("idempotency_key", "k1").String()},
		{http.MethodPost, "/v1/migrations", inventoryBody("db-14", macA).with("idempotency_key", "k1").String()}, // 409
		{http.MethodPost, "/v1/migrations", withSecret(secret + strings.Repeat("x", 5000))},
		{http.MethodPost, "/v1/migrations", inventoryBody("db-14", macA).with("secrets", doc{"redfish password": secret}).String()},
		{http.MethodPost, "/v1/migrations", withSecret(secret + "\u0000")},
		{http.MethodPost, "/v1/migrations", withSecret(doc{"value": secret})},
		{http.MethodPost, "/v1/migrations", withSecret([]string{secret})},
		{http.MethodPost, "/v1/migrations", inventoryBody("db-14", macA).with("secrets", secret).String()},
		{http.MethodPost, "/v1/migrations", doc{"secrets": doc{"redfish_password": secret}}.String()},
		{http.MethodPost, "/v1/migrations", doc{"secrets": doc{"redfish_password": secret}, "extra": 1}.String()},
		{http.MethodPost, "/v1/migrations", `{"secrets": {"redfish_password": "` + secret + `"}, "secrets": 7, "source": {}}`},
		{http.MethodPost, "/v1/migrations", `{"secrets": {"redfish_password": "` + secret + `"}, "source": 7}`},
		{http.MethodPost, "/v1/migrations", `{"secrets": {"redfish_password": "` + secret + `"}`},
		{http.MethodPost, "/v1/migrations", `{"secrets": {"redfish_password": ` + secret + `}}`},
		{http.MethodPost, "/v1/migrations", inventoryBody("db-14", macA).with("source.machine.driver_info.ipmi_password", secret).String()},
		{http.MethodPost, "/v1/migrations", inventoryBody("db-14", macA).with("secrets.other", secret).String()},
		{http.MethodPost, "/v1/migrations", inventoryBody("db-15", macB).with("target", deleted).String()},
		{http.MethodPost, "/v1/migrations?dry_run=true", handoffBody(sourceNode).with("network_map", deleted).String()},
		{http.MethodPost, "/v1/migrations?dry_run=true", handoffBody(sourceNode).String()},
		{http.MethodPost, "/v1/migrations?x=" + url.QueryEscape(secret), withSecret(secret)},
	}
	var answers bytes.Buffer
	for _, req := range requests {
		r := mh.do(t, req.method, req.path, "application/json", strings.NewReader(req.body))
		answers.Write(r.body)
		_ = r.header.Write(&answers)
	}
	for _, m := range decodeList(t, mh.read(t, "/v1/migrations")) {
		done := mh.wait(t, m)
		r := mh.get(t, "/v1/migrations/"+done.UUID)
		answers.Write(r.body)
	}
	if n := strings.Count(answers.String(), secret); n != 0 {
		t.Errorf("%d answers hold the secret", n)
	}
	if n := strings.Count(mh.logs.String(), secret); n != 0 {
		t.Errorf("%d log lines hold the secret", n)
	}
	if !strings.Contains(mh.logs.String(), "[DEBUG] mogan-api: request") {
		t.Error("no access log line at debug: the logs were not captured")
	}
	for _, suffix := range []string{"", "-wal"} {
		if b, err := os.ReadFile(mh.dbPath + suffix); err == nil && bytes.Contains(b, []byte(secret)) {
			t.Errorf("the database%s holds the secret", suffix)
		}
	}
	found := false
	mh.west.set(func(c *cloud) {
		for _, s := range c.secrets {
			found = found || s["redfish_password"] == secret
		}
	})
	if !found {
		t.Error("the secret never reached the driver")
	}
}

// decodeList is the uuids of a migrations listing.
func decodeList(t *testing.T, r response) []string {
	t.Helper()
	var l struct {
		Migrations []struct {
			UUID string `json:"uuid"`
		} `json:"migrations"`
	}
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("listing %s: %v", r.body, err)
	}
	var out []string
	for _, m := range l.Migrations {
		out = append(out, m.UUID)
	}
	return out
}

// TestMigrationHostileBodies: the manage body's defences hold on the
// migration body, the machine included: bytes that are not UTF-8, lone
// surrogate escapes and NUL are 400 naming the field; a body past 1 MiB is
// 413; nesting past what any machine needs is 400; a key given twice is
// read as checked; a long key is not echoed whole. Nothing reaches a
// backend, nothing is created.
func TestMigrationHostileBodies(t *testing.T) {
	base := inventoryBody("db-16", macA)
	nested := doc{"a": "leaf"}
	for range 40 {
		nested = doc{"a": nested}
	}
	manyPorts := make([]doc, 0, 5000)
	for i := range 5000 {
		manyPorts = append(manyPorts, doc{"mac": "52:54:00:00:" + hex2(i/256) + ":" + hex2(i%256)})
	}
	tests := map[string]struct {
		body       string
		wantStatus int
		wantText   []string
	}{
		"secret not UTF-8": {body: strings.Replace(base.String(), secret, "a\xffb", 1), wantStatus: 400,
			wantText: []string{"Invalid input for field/attribute secrets.redfish_password. Value is not valid UTF-8"}},
		"machine name not UTF-8": {body: strings.Replace(base.String(), `"db-16"`, "\"db\xc3(\"", 1), wantStatus: 400,
			wantText: []string{"Invalid input for field/attribute source.machine.name. Value is not valid UTF-8"}},
		"lone surrogate in a secret": {body: strings.Replace(base.String(), secret, `\ud800`, 1), wantStatus: 400,
			wantText: []string{"field/attribute secrets.redfish_password. Value holds a lone UTF-16 surrogate"}},
		"lone surrogate in driver_info": {body: base.with("source.machine.driver_info.redfish_address", "x").String(), wantStatus: 400},
		"NUL in driver_info": {body: base.with("source.machine.driver_info.redfish_address", "https://a\u0000b").String(), wantStatus: 400,
			wantText: []string{"field/attribute source.machine.driver_info.redfish_address.", "NUL character"}},
		"NUL in a network_map key": {body: handoffBody(sourceNode).with("network_map", doc{"phys\u0000": "prov"}).String(), wantStatus: 400,
			wantText: []string{"field/attribute network_map.", "NUL character"}},
		"past 1 MiB": {body: base.with("server", doc{"name": "a", "description": strings.Repeat("d", 1<<20)}).String(), wantStatus: 413,
			wantText: []string{"the limit is 1048576."}},
		"nested in properties": {body: base.with("source.machine.properties", nested).String(), wantStatus: 400,
			wantText: []string{`Invalid input for machine: source.machine: cannot be read: line 1: properties.a.a.a`, "nested deeper than any inventory needs"}},
		"nested past JSON's depth": {body: `{"source": {"machine": ` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}`, wantStatus: 400,
			wantText: []string{"Malformed JSON"}},
		"a key given twice": {body: strings.TrimSuffix(base.String(), "}") +
			`, "source": {"machine": {"name": "db-17", "driver": "redfish", "ports": [{"mac": "bad"}]}}}`, wantStatus: 400,
			wantText: []string{`Invalid input for machine "db-17": source.machine.ports[0].mac: "bad" is not a MAC address.`}},
		"a long unknown machine field": {body: base.with("source.machine."+strings.Repeat("k", 10<<10), 1).String(), wantStatus: 400,
			wantText: []string{`Invalid input for machine "db-16": source.machine.kkkk`}},
		"5,000 ports, a bad one": {body: base.with("source.machine.ports", append(slices.Clone(manyPorts), doc{"mac": "bad"})).String(), wantStatus: 400,
			wantText: []string{`source.machine.ports[5000].mac: "bad" is not a MAC address`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			mh := newMigrationHarness(t)
			body := tc.body
			if name == "lone surrogate in driver_info" {
				body = strings.Replace(body, `"redfish_address":"x"`, `"redfish_address":"\udc00"`, 1)
				tc.wantText = []string{"field/attribute source.machine.driver_info.redfish_address. Value holds a lone UTF-16 surrogate"}
			}
			for _, path := range []string{"/v1/migrations?dry_run=true", "/v1/migrations"} {
				start := time.Now()
				r := mh.postJSON(t, path, body)
				if took := time.Since(start); took > 5*time.Second {
					t.Errorf("POST %s took %v", path, took)
				}
				if r.status != tc.wantStatus {
					t.Fatalf("POST %s: %d; want %d (%.400s)", path, r.status, tc.wantStatus, r.body)
				}
				msg := faultString(t, r)
				for _, want := range tc.wantText {
					if !strings.Contains(msg, want) {
						t.Errorf("POST %s: faultstring %.600q does not contain %q", path, msg, want)
					}
				}
				if len(msg) > 4000 || !utf8.ValidString(msg) {
					t.Errorf("POST %s: faultstring of %d bytes, or not UTF-8: the body is echoed", path, len(msg))
				}
			}
			if n := mh.calls(); n != 0 {
				t.Errorf("the backends were called %d times", n)
			}
			assertNoMigration(t, mh)
		})
	}
	t.Run("5,000 ports, accepted", func(t *testing.T) {
		mh := newMigrationHarness(t)
		start := time.Now()
		r := mh.postJSON(t, "/v1/migrations?dry_run=true", base.with("source.machine.ports", manyPorts).String())
		if r.status != http.StatusOK || time.Since(start) > 5*time.Second {
			t.Errorf("dry run of a machine with 5,000 ports: %d in %v (%.300s)", r.status, time.Since(start), r.body)
		}
	})
}

func hex2(n int) string { return strconv.FormatInt(int64(0x100+n), 16)[1:] }
