package api_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/api"
	"github.com/mogan-manage/mogan-manage/host/internal/auth"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"

	_ "modernc.org/sqlite" // storeSnapshot reads the database as it is
)

// writesCounted wraps the driver's Manage and Unmanage with a counter:
// the driver's writes.
func writesCounted(h *harness) *atomic.Int64 {
	var n atomic.Int64
	manage, unmanage := h.driver.ManageFunc, h.driver.UnmanageFunc
	h.driver.ManageFunc = func(ctx context.Context, req driver.ManageRequest) (driver.Node, error) {
		n.Add(1)
		return manage(ctx, req)
	}
	h.driver.UnmanageFunc = func(ctx context.Context, req driver.ManageRequest) error {
		n.Add(1)
		return unmanage(ctx, req)
	}
	return &n
}

// TestDryRunPlansTheServer: the plan is the server the adoption then
// records (but for its uuid, links and times), and nothing is written:
// no server, no action, no driver write.
func TestDryRunPlansTheServer(t *testing.T) {
	h := newHarness(t, adoptableDriver(sampleNode(nodeUUID)))
	writes := writesCounted(h)
	r := h.postJSON(t, "/v1/manageable_servers?dry_run=true", validBody(nodeUUID))
	if r.status != http.StatusOK {
		t.Fatalf("dry run: %d %s", r.status, r.body)
	}
	if r.header.Get("Location") != "" {
		t.Errorf("a dry run has a Location: %s", r.header.Get("Location"))
	}
	plan := decodeObject(t, r.body)
	if diff := cmp.Diff([]string{"dry_run", "image_uuid", "ports_to_bind", "server"}, keys(plan)); diff != "" {
		t.Errorf("plan keys (-want +got):\n%s", diff)
	}
	if plan["dry_run"] != true || plan["image_uuid"] != sampleNode(nodeUUID).ImageSource {
		t.Errorf("plan = %s", r.body)
	}
	if ports, ok := plan["ports_to_bind"].([]any); !ok || len(ports) != 0 {
		t.Errorf("ports_to_bind without Neutron = %v; want []", plan["ports_to_bind"])
	}
	server := plan["server"].(map[string]any)
	if server["uuid"] != nil || server["links"] == nil || len(server["links"].([]any)) != 0 {
		t.Errorf("planned server uuid %v, links %v; want null and []", server["uuid"], server["links"])
	}
	assertNothingStored(t, h)
	if n := writes.Load(); n != 0 {
		t.Errorf("the dry run made %d driver writes", n)
	}

	adopted := h.postJSON(t, "/v1/manageable_servers", validBody(nodeUUID))
	if adopted.status != http.StatusCreated {
		t.Fatalf("adopt: %d %s", adopted.status, adopted.body)
	}
	real := decodeObject(t, adopted.body)
	if diff := cmp.Diff(keys(real), keys(server)); diff != "" {
		t.Errorf("planned server keys differ from the adopted one's (-adopted +planned):\n%s", diff)
	}
	for _, k := range []string{"uuid", "links", "created_at", "launched_at", "updated_at"} {
		delete(real, k)
		delete(server, k)
	}
	if diff := cmp.Diff(real, server); diff != "" {
		t.Errorf("planned server differs from the adopted one (-adopted +planned):\n%s", diff)
	}
}

// TestDryRunRefusesAsTheRealCall: every refusal of a dry run has the
// status and message of the real call's, and the dry run writes nothing.
func TestDryRunRefusesAsTheRealCall(t *testing.T) {
	notManageable := sampleNode(otherNode)
	notManageable.Manageable = false
	notManageable.Reason = "node is in maintenance"
	tests := map[string]struct {
		body    string
		prepare func(t *testing.T, h *harness) // before the dry run
		status  int
	}{
		"already managed": {body: validBody(nodeUUID), status: 409, prepare: func(t *testing.T, h *harness) {
			if r := h.postJSON(t, "/v1/manageable_servers", validBody(nodeUUID)); r.status != http.StatusCreated {
				t.Fatalf("adopt: %d %s", r.status, r.body)
			}
		}},
		"claimed by an adoption in progress": {body: validBody(nodeUUID), status: 409, prepare: func(t *testing.T, h *harness) {
			srv := store.Server{UUID: "0e1d2c3b-4a59-4687-9a6b-5c4d3e2f1a0b", Name: "x", NodeUUID: nodeUUID,
				Status: store.StatusBuilding, ProjectID: "p", UserID: "u"}
			if err := h.store.ClaimNode(t.Context(), srv, store.Intent{RequestID: "req-x", Owner: "elsewhere"}); err != nil {
				t.Fatal(err)
			}
		}},
		"driver refuses":       {body: validBody(otherNode), status: 409},
		"unknown node":         {body: validBody("11111111-2222-4333-8444-555555555555"), status: 404},
		"schema":               {body: `{"name": "a", "node_uuid": "1234"}`, status: 400},
		"extra field":          {body: `{"name": "a", "flavor": "x", "node_uuid": "` + nodeUUID + `"}`, status: 400},
		"malformed":            {body: `{"name": `, status: 400},
		"metadata over quota":  {body: `{"name": "a", "metadata": {"a": "1", "b": "2", "c": "3"}, "node_uuid": "` + nodeUUID + `"}`, status: 403},
		"driver unavailable":   {body: validBody(nodeUUID), status: 503, prepare: failGet(driver.Unavailable("Ironic is down"))},
		"driver unimplemented": {body: validBody(nodeUUID), status: 501, prepare: failGet(driver.NotImplemented("no"))},
		// A driver that discovers but cannot adopt (the plugin guide's
		// example): its listing works, so only its capabilities tell.
		"driver cannot adopt": {body: validBody(nodeUUID), status: 501, prepare: discoverOnly},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarnessWithAuth(t, adoptableDriver(sampleNode(nodeUUID), notManageable), noAuth(t),
				func(c *api.Config) { c.MetadataItems = 2 })
			if tc.prepare != nil {
				tc.prepare(t, h)
			}
			before := storeSnapshot(t, h)
			writes := writesCounted(h)
			dry := h.postJSON(t, "/v1/manageable_servers?dry_run=yes", tc.body)
			if dry.status != tc.status {
				t.Fatalf("dry run: %d %s; want %d", dry.status, dry.body, tc.status)
			}
			if after := storeSnapshot(t, h); after != before || writes.Load() != 0 {
				t.Errorf("the dry run changed something: store %q -> %q, %d driver writes", before, after, writes.Load())
			}
			real := h.postJSON(t, "/v1/manageable_servers", tc.body)
			if real.status != dry.status || faultString(t, real) != faultString(t, dry) {
				t.Errorf("real call %d %q, dry run %d %q", real.status, faultString(t, real), dry.status, faultString(t, dry))
			}
		})
	}
}

func noAuth(t *testing.T) auth.Authenticator {
	t.Helper()
	authn, err := auth.New(t.Context(), auth.Config{Strategy: "noauth"}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	return authn
}

func failGet(err error) func(*testing.T, *harness) {
	return func(_ *testing.T, h *harness) {
		h.driver.GetFunc = func(context.Context, string) (driver.Node, error) { return driver.Node{}, err }
	}
}

// discoverOnly makes the harness's driver one without the adopt
// capability, as a plugin built from the SDK reports it: GetInfo lists
// "discover" only and Manage answers Unimplemented.
func discoverOnly(_ *testing.T, h *harness) {
	h.driver.InfoFunc = func(context.Context) (driver.Info, error) {
		return driver.Info{Name: "inventory", Version: "1", Capabilities: []string{driver.CapabilityDiscover}}, nil
	}
	h.driver.ManageFunc = func(context.Context, driver.ManageRequest) (driver.Node, error) {
		return driver.Node{}, driver.NotImplemented("managing a node")
	}
}

// storeSnapshot counts the rows of every table of the harness's SQLite
// database (servers, intents, tombstones, actions, …).
func storeSnapshot(t *testing.T, h *harness) string {
	t.Helper()
	db, err := sql.Open("sqlite", h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.WithoutCancel(t.Context())
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tables, "actions") || !slices.Contains(tables, "servers") {
		t.Fatalf("tables %v lack servers or actions", tables)
	}
	var out []string
	for _, table := range tables {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM "`+table+`"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d", table, n))
	}
	return strings.Join(out, " ")
}

// TestDryRunParameter: dry_run takes all='s words; anything else is 400
// and nothing happens — a bare or empty dry_run too, which adopted for
// real (issue 15, finding 6); a member may not dry-run either.
func TestDryRunParameter(t *testing.T) {
	tests := map[string]struct {
		query  string
		status int
	}{
		"true": {"dry_run=true", 200}, "1": {"dry_run=1", 200}, "yes": {"dry_run=yes", 200}, "on": {"dry_run=ON", 200},
		"false": {"dry_run=false", 201}, "0": {"dry_run=0", 201}, "no": {"dry_run=no", 201}, "off": {"dry_run=off", 201},
		"empty": {"dry_run=", 400}, "bare": {"dry_run", 400}, "absent": {"", 201},
		"maybe": {"dry_run=maybe", 400}, "2": {"dry_run=2", 400}, "not UTF-8": {"dry_run=%ff", 400},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, adoptableDriver(sampleNode(nodeUUID)))
			r := h.postJSON(t, "/v1/manageable_servers?"+tc.query, validBody(nodeUUID))
			if r.status != tc.status {
				t.Fatalf("status %d %s; want %d", r.status, r.body, tc.status)
			}
			if tc.status == http.StatusBadRequest {
				if msg := faultString(t, r); !strings.Contains(msg, "dry_run") {
					t.Errorf("faultstring %q does not name dry_run", msg)
				}
			}
			if tc.status != http.StatusCreated {
				assertNothingStored(t, h)
			}
		})
	}
	h := newHarnessWithAuth(t, adoptableDriver(sampleNode(nodeUUID)), headerAuth{})
	if r := h.by(t, "owner", http.MethodPost, "/v1/manageable_servers?dry_run=true", validBody(nodeUUID)); r.status != http.StatusForbidden {
		t.Errorf("a member's dry run: %d %s; want 403", r.status, r.body)
	}
	if n := h.driver.Calls(); n != 0 {
		t.Errorf("a member's dry run called the driver %d times", n)
	}
}
