package api_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
)

// The migration routes (DESIGN, "Migration", "The routes") over real
// migrations: the application layer on a real SQLite store, its
// background runs, and two fake clouds (migration_fakes_test.go).

// secret is a BMC password no answer, log line or row may ever hold.
const secret = "Zq8-UNIQUE-s3cr3t-7731"

// doc is a JSON object under construction.
type doc map[string]any

func (d doc) String() string {
	b, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// deleted, as the value of with, removes the field.
type deletedField struct{}

var deleted deletedField

// with is a copy of d with the field at path (dotted) set to v.
func (d doc) with(path string, v any) doc {
	out := maps.Clone(d)
	name, rest, nested := strings.Cut(path, ".")
	switch {
	case nested:
		inner, _ := out[name].(doc)
		if inner == nil {
			inner = doc{}
		}
		out[name] = inner.with(rest, v)
	case v == deleted:
		delete(out, name)
	default:
		out[name] = v
	}
	return out
}

// machineDoc is a machine of an inventory: redfish, its password a
// secret, one NIC on the network "prov" with a fixed IP (ipOf).
func machineDoc(name, mac string) doc {
	return doc{
		"name": name, "driver": "redfish",
		"driver_info":    doc{"redfish_address": "https://10.0.0.5", "redfish_username": "admin"},
		"secrets":        []string{"redfish_password"},
		"resource_class": "gold",
		"ports":          []doc{{"mac": mac, "network": "prov", "fixed_ips": []string{ipOf(mac)}}},
	}
}

// ipOf is a machine's fixed IP, one per MAC: 10.0.0.<the MAC's last byte>.
func ipOf(mac string) string {
	n, err := strconv.ParseUint(mac[len(mac)-2:], 16, 8)
	if err != nil {
		panic(err)
	}
	return "10.0.0." + strconv.FormatUint(n, 10)
}

// inventoryBody migrates machine name (with NIC mac) into west.
func inventoryBody(name, mac string) doc {
	return doc{
		"source":  doc{"machine": machineDoc(name, mac)},
		"target":  doc{"backend": "west"},
		"secrets": doc{"redfish_password": secret},
	}
}

// handoffBody moves node from east to west.
func handoffBody(node string) doc {
	return doc{
		"source":      doc{"backend": "east", "node_uuid": node},
		"target":      doc{"backend": "west"},
		"secrets":     doc{"redfish_password": secret},
		"network_map": doc{"physnet1": "prov"},
	}
}

const (
	macA       = "52:54:00:00:10:01"
	macB       = "52:54:00:00:10:02"
	sourceNode = "0b6a3f7e-52c4-4b8e-9d3c-1f2e3d4c5b6a"
)

// TestMigrateInventoryMachine: a described machine is 202 with Location
// and the migration (pending or running, its source the machine's name);
// it runs to done in the background — its Neutron port, the node enrolled
// with the secret, the server adopted — and GET shows each step.
func TestMigrateInventoryMachine(t *testing.T) {
	mh := newMigrationHarness(t)
	body := inventoryBody("db-01", macA).with("server", doc{"name": "db-01", "metadata": doc{"role": "db"}})
	r := mh.postJSON(t, "/v1/migrations", body.String())
	if r.status != http.StatusAccepted {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	m := decodeMigration(t, r)
	if got, want := r.header.Get("Location"), mh.url+"/v1/migrations/"+m.UUID; got != want {
		t.Errorf("Location = %q; want %q", got, want)
	}
	if m.Status != "pending" && m.Status != "running" {
		t.Errorf("status = %q; want pending or running", m.Status)
	}
	if m.Source.Machine == nil || m.Source.Machine.Name == nil || *m.Source.Machine.Name != "db-01" || m.Source.Backend != "" {
		t.Errorf("source = %+v; want the machine db-01", m.Source)
	}
	if m.Target.Backend != "west" || m.NodeUUID == "" || m.ServerUUID != nil || m.Error != nil {
		t.Errorf("migration = %+v", m)
	}
	if m.RequestID == nil || *m.RequestID != r.header.Get("X-Openstack-Request-Id") {
		t.Errorf("request_id = %v; want the request's %s", m.RequestID, r.header.Get("X-Openstack-Request-Id"))
	}
	wantLinks := []string{mh.url + "/v1/migrations/" + m.UUID, mh.url + "/migrations/" + m.UUID}
	if len(m.Links) != 2 || m.Links[0].Href != wantLinks[0] || m.Links[0].Rel != "self" || m.Links[1].Href != wantLinks[1] || m.Links[1].Rel != "bookmark" {
		t.Errorf("links = %+v; want self and bookmark %v", m.Links, wantLinks)
	}

	done := mh.wait(t, m.UUID)
	if diff := cmp.Diff([]string{"neutron_port=done", "enroll=done", "adopt=done"}, done.steps()); done.Status != "done" || diff != "" {
		t.Fatalf("migration ended %s (%v), steps (-want +got):\n%s", done.Status, done.Error, diff)
	}
	for _, st := range done.Steps {
		if st.StartedAt == nil || st.FinishedAt == nil || st.Error != nil || !strings.HasSuffix(*st.StartedAt, "+00:00") {
			t.Errorf("step %+v: want started_at and finished_at as upstream's timestamps, error null", st)
		}
	}
	if done.ServerUUID == nil || done.CreatedAt == nil || done.UpdatedAt == nil {
		t.Fatalf("done migration = %+v; want server_uuid and timestamps", done)
	}
	n, ok := mh.west.node(done.NodeUUID)
	if !ok || n.state != "active" || !n.protected || n.instance != *done.ServerUUID {
		t.Errorf("west's node = %+v (%v); want active, protected, the server's", n, ok)
	}
	mh.west.set(func(c *cloud) {
		if len(c.secrets) != 1 || c.secrets[0]["redfish_password"] != secret {
			t.Errorf("the driver got %d sets of secrets; want the body's, once", len(c.secrets))
		}
	})
	srv := decodeObject(t, mh.get(t, "/v1/servers/"+*done.ServerUUID).body)
	if srv["name"] != "db-01" || srv["backend"] != "west" || srv["node_uuid"] != done.NodeUUID {
		t.Errorf("server = %v", srv)
	}
	if ports := mh.networks.portIDs(); len(ports) != 1 {
		t.Errorf("Neutron ports = %v; want the one created", ports)
	}
}

// TestMigrateHandoff: a source backend's node is 202; the source side
// shows {"backend", "node_uuid"}, the target keeps the node's uuid, and
// the node ends adopted in west and gone from east.
func TestMigrateHandoff(t *testing.T) {
	mh := newMigrationHarness(t)
	mh.east.active(sourceNode, "web-01", macB)
	m := mh.migrate(t, handoffBody(sourceNode).with("server", doc{"name": "web-01"}).String(), http.StatusAccepted)
	if m.Source.Backend != "east" || m.Source.NodeUUID != sourceNode || m.Source.Machine != nil || m.NodeUUID != sourceNode {
		t.Errorf("migration = %+v; want source east's node, kept as the node uuid", m)
	}
	done := mh.wait(t, m.UUID)
	want := []string{"hold_source=done", "neutron_port=done", "enroll=done", "release_source=done", "adopt=done"}
	if diff := cmp.Diff(want, done.steps()); done.Status != "done" || diff != "" {
		t.Fatalf("migration ended %s (%v), steps (-want +got):\n%s", done.Status, done.Error, diff)
	}
	if _, ok := mh.east.node(sourceNode); ok {
		t.Error("the node is still in east")
	}
	if n, ok := mh.west.node(sourceNode); !ok || !n.protected || n.instance == "" {
		t.Errorf("west's node = %+v (%v); want adopted and protected", n, ok)
	}
}

// TestMigrationRefusals: each body refused before anything is created, by
// the real call and by its dry run alike: the status, the words naming the
// field (the machine by its name), nothing created on either side and no
// backend reached for a body the API itself refuses.
func TestMigrationRefusals(t *testing.T) {
	base := inventoryBody("db-02", macA)
	tests := map[string]struct {
		body        string
		contentType string // "" = application/json
		setup       func(mh *migrationHarness)
		wantStatus  int
		wantText    []string
		// apiOnly: refused by the API before the application layer (no
		// backend reached).
		apiOnly bool
	}{
		"no source":              {body: base.with("source", deleted).String(), wantStatus: 400, wantText: []string{"field/attribute source.", "required"}, apiOnly: true},
		"empty source":           {body: base.with("source", doc{}).String(), wantStatus: 400, wantText: []string{"field/attribute source.", "Give machine (a described machine), or backend and node_uuid"}, apiOnly: true},
		"both forms":             {body: base.with("source.backend", "east").with("source.node_uuid", sourceNode).String(), wantStatus: 400, wantText: []string{"not both"}, apiOnly: true},
		"backend, no node":       {body: handoffBody(sourceNode).with("source.node_uuid", deleted).String(), wantStatus: 400, wantText: []string{"field/attribute source."}, apiOnly: true},
		"node_uuid not a UUID":   {body: handoffBody("node-1").String(), wantStatus: 400, wantText: []string{"field/attribute source.node_uuid", "uuid"}, apiOnly: true},
		"source unknown field":   {body: base.with("source.path", "/x").String(), wantStatus: 400, wantText: []string{"source", "Additional property path is not allowed"}, apiOnly: true},
		"unknown field":          {body: base.with("force", true).String(), wantStatus: 400, wantText: []string{"field/attribute force", "not allowed"}, apiOnly: true},
		"target unknown field":   {body: base.with("target.driver", "ironic").String(), wantStatus: 400, wantText: []string{"field/attribute target", "driver is not allowed"}, apiOnly: true},
		"target without backend": {body: base.with("target", doc{}).String(), wantStatus: 400, wantText: []string{"field/attribute target.backend", "Backend is required"}, apiOnly: true},
		"target backend invalid": {body: base.with("target.backend", "West!").String(), wantStatus: 400, wantText: []string{"field/attribute target.backend"}, apiOnly: true},
		"server without name":    {body: base.with("server", doc{"description": "x"}).String(), wantStatus: 400, wantText: []string{"field/attribute server.name", "Name is required"}, apiOnly: true},
		"server unknown field":   {body: base.with("server", doc{"name": "a", "node_uuid": sourceNode}).String(), wantStatus: 400, wantText: []string{"field/attribute server", "node_uuid is not allowed"}, apiOnly: true},
		"server metadata key":    {body: base.with("server", doc{"name": "a", "metadata": doc{"a/b": "c"}}).String(), wantStatus: 400, wantText: []string{"field/attribute server.metadata", "a/b is not allowed"}, apiOnly: true},
		"server metadata value":  {body: base.with("server", doc{"name": "a", "metadata": doc{"k": 1}}).String(), wantStatus: 400, wantText: []string{"field/attribute server.metadata.k", "Expected: string"}, apiOnly: true},
		"server project_id":      {body: base.with("server", doc{"name": "a", "project_id": "a b"}).String(), wantStatus: 400, wantText: []string{"field/attribute server.project_id"}, apiOnly: true},
		"metadata over quota":    {body: base.with("server", doc{"name": "a", "metadata": manyKeys(129)}).String(), wantStatus: 403, wantText: []string{"Quota exceeded for metadata items: 129 items, the limit is 128."}, apiOnly: true},
		"secrets not an object":  {body: base.with("secrets", []string{"x"}).String(), wantStatus: 400, wantText: []string{"field/attribute secrets.", "Expected: object"}, apiOnly: true},
		"network_map value":      {body: handoffBody(sourceNode).with("network_map.physnet1", 7).String(), wantStatus: 400, wantText: []string{"field/attribute network_map.physnet1"}, apiOnly: true},
		"image not an image":     {body: base.with("image", "ubuntu").String(), wantStatus: 400, wantText: []string{"field/attribute image.", "Does not match pattern"}, apiOnly: true},
		"image_map value":        {body: base.with("image_map", doc{"a": "b"}).String(), wantStatus: 400, wantText: []string{"field/attribute image_map.a"}, apiOnly: true},
		"idempotency key space":  {body: base.with("idempotency_key", "a b").String(), wantStatus: 400, wantText: []string{"field/attribute idempotency_key"}, apiOnly: true},
		"idempotency key empty":  {body: base.with("idempotency_key", "").String(), wantStatus: 400, wantText: []string{"field/attribute idempotency_key"}, apiOnly: true},
		"network_map for a machine": {body: base.with("network_map", doc{"*": "prov"}).String(), wantStatus: 400,
			wantText: []string{"field/attribute network_map.", "network_map is for a source backend's node"}, apiOnly: true},
		"not JSON":      {body: `{"source": `, wantStatus: 400, wantText: []string{"Malformed JSON"}, apiOnly: true},
		"not an object": {body: `[]`, wantStatus: 400, wantText: []string{"Expected: object, given: array"}, apiOnly: true},
		"form body": {body: "source=x", contentType: "application/x-www-form-urlencoded", wantStatus: 415,
			wantText: []string{"the body must be application/json"}, apiOnly: true},

		// The machine, by the inventory's schema and checks, named.
		"machine MAC": {body: base.with("source.machine.ports", []doc{{"mac": "zz"}}).String(), wantStatus: 400,
			wantText: []string{`Invalid input for machine "db-02": source.machine.ports[0].mac: "zz" is not a MAC address.`}, apiOnly: true},
		"machine without a driver": {body: base.with("source.machine.driver", deleted).String(), wantStatus: 400,
			wantText: []string{`Invalid input for machine "db-02": source.machine.driver: is required.`}, apiOnly: true},
		"machine unknown field": {body: base.with("source.machine.colour", "red").String(), wantStatus: 400,
			wantText: []string{`machine "db-02": source.machine.colour: unknown field; the fields of a machine are name, driver`}, apiOnly: true},
		"machine without a name": {body: base.with("source.machine", doc{"driver": "redfish", "ports": []doc{{"mac": "x"}}}).String(), wantStatus: 400,
			wantText: []string{`Invalid input for machine: source.machine.ports[0].mac: "x" is not a MAC address.`}, apiOnly: true},
		"machine, several problems": {body: base.with("source.machine.traits", []string{"lower"}).with("source.machine.power_state", "on").String(), wantStatus: 400,
			wantText: []string{`source.machine.traits[0]: "lower" is not a trait`, `; source.machine.power_state: "on" is not a power state`}, apiOnly: true},
		"machine password in driver_info": {body: base.with("source.machine.driver_info.ipmi_password", secret).String(), wantStatus: 400,
			wantText: []string{`source.machine.driver_info.ipmi_password: Ironic hides this field`}, apiOnly: true},
		"machine secret also in driver_info": {body: base.with("source.machine.driver_info.redfish_password", secret).String(), wantStatus: 400,
			wantText: []string{`source.machine.secrets[0]: "redfish_password" is also in driver_info`}, apiOnly: true},
		"machine not an object": {body: base.with("source.machine", "db").String(), wantStatus: 400,
			wantText: []string{"field/attribute source.machine.", "Expected: object"}, apiOnly: true},

		// The application layer's checks, before anything is created.
		"no target, two can enroll": {body: base.with("target", deleted).String(), wantStatus: 400, wantText: []string{"target: name the backend to migrate into (2 of the backends"}},
		"unknown target":            {body: base.with("target.backend", "north").String(), wantStatus: 400, wantText: []string{`target: unknown backend "north"`}},
		"missing secret":            {body: base.with("secrets", doc{}).String(), wantStatus: 400, wantText: []string{`machine "db-02": secrets: no value for driver_info field "redfish_password"`}},
		"extra secret":              {body: base.with("secrets.ipmi_password", "x").String(), wantStatus: 400, wantText: []string{`"ipmi_password" is not one of the machine's secrets`}},
		"ambiguous network":         {body: base.with("source.machine.ports", []doc{{"mac": macA, "network": "dup"}}).String(), wantStatus: 400, wantText: []string{`machine "db-02": ports[0].network:`, "dup"}},
		"unknown network":           {body: base.with("source.machine.ports", []doc{{"mac": macA, "network": "nowhere"}}).String(), wantStatus: 400, wantText: []string{"nowhere"}},
		"MAC on another network": {body: base.String(), wantStatus: 409, wantText: []string{"MAC " + macA + " is already on Neutron port"},
			setup: func(mh *migrationHarness) {
				mh.networks.add(neutron.Port{ID: "33333333-0000-4000-8000-000000000001", NetworkID: "22222222-0000-4000-8000-000000000001", MACAddress: macA})
			}},
		"unknown source node":    {body: handoffBody(sourceNode).String(), wantStatus: 404, wantText: []string{sourceNode}},
		"source node associated": {body: handoffBody(sourceNode).String(), wantStatus: 409, wantText: []string{"delete or unmanage the instance in the source cloud first"}, setup: associated},
		"source is the target":   {body: handoffBody(sourceNode).with("source.backend", "west").String(), wantStatus: 400, wantText: []string{"source and target are the same backend west"}, setup: activeSource},
		"unknown source backend": {body: handoffBody(sourceNode).with("source.backend", "south").String(), wantStatus: 400, wantText: []string{`source: unknown backend "south"`}},
		"source port not mapped": {body: handoffBody(sourceNode).with("network_map", deleted).String(), wantStatus: 400, wantText: []string{"network_map: no target network for port " + macB}, setup: activeSource},
		"source secret missing":  {body: handoffBody(sourceNode).with("secrets", deleted).String(), wantStatus: 400, wantText: []string{`no value for driver_info field "redfish_password"`}, setup: activeSource},
		"source node in maintenance": {body: handoffBody(sourceNode).String(), wantStatus: 409, wantText: []string{"in maintenance"},
			setup: func(mh *migrationHarness) {
				activeSource(mh)
				mh.east.set(func(c *cloud) { c.nodes[sourceNode].maintenance = true })
			}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			mh := newMigrationHarness(t)
			if tc.setup != nil {
				tc.setup(mh)
			}
			eastBefore, _ := mh.east.node(sourceNode)
			portsBefore := mh.networks.portIDs()
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			var answers []string
			for _, path := range []string{"/v1/migrations?dry_run=true", "/v1/migrations"} {
				calls := mh.calls()
				r := mh.do(t, http.MethodPost, path, ct, strings.NewReader(tc.body))
				if r.status != tc.wantStatus {
					t.Fatalf("POST %s: %d; want %d (%s)", path, r.status, tc.wantStatus, r.body)
				}
				msg := faultString(t, r)
				for _, want := range tc.wantText {
					if !strings.Contains(msg, want) {
						t.Errorf("POST %s: faultstring %q does not contain %q", path, msg, want)
					}
				}
				if strings.Contains(msg, secret) || len(msg) > 2000 {
					t.Errorf("POST %s: faultstring %q holds the secret or is unbounded", path, msg)
				}
				if n := mh.calls() - calls; tc.apiOnly && n != 0 {
					t.Errorf("POST %s: the backends were called %d times for a body the API refuses", path, n)
				}
				answers = append(answers, msg)
			}
			if answers[0] != answers[1] {
				t.Errorf("the dry run answered %q, the real call %q", answers[0], answers[1])
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

func activeSource(mh *migrationHarness) { mh.east.active(sourceNode, "web-01", macB) }

func associated(mh *migrationHarness) {
	activeSource(mh)
	mh.east.set(func(c *cloud) { c.nodes[sourceNode].instance = "c5b0d7a2-5d6c-4f7e-8a9b-0c1d2e3f4a5b" })
}

// manyKeys is a metadata object of n valid items.
func manyKeys(n int) doc {
	d := doc{}
	for i := range n {
		d["k"+strings.Repeat("0", 4)+string(rune('a'+i%26))+strings.Repeat("x", i/26)] = "v"
	}
	return d
}

// assertNoMigration checks the listing is empty.
func assertNoMigration(t *testing.T, mh *migrationHarness) {
	t.Helper()
	r := mh.get(t, "/v1/migrations")
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"migrations":[]}` {
		t.Errorf("GET /v1/migrations: %d %s; want none", r.status, r.body)
	}
}
