package ironicbench

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/ironicdriver"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// TestBulkLoadedNodesListLikeEnrolled: nodes the bulk loader writes into
// Ironic's database read, through Ironic's API and through the driver,
// exactly as nodes enrolled through the API; the driver lists them all.
// They are removed again at the end so that the other tests and the
// benchmarks see this package's API-enrolled nodes only.
func TestBulkLoadedNodesListLikeEnrolled(t *testing.T) {
	const n = 200
	f := env.ironic.Fixture()
	start := time.Now()
	bulk, err := f.BulkLoad(t.Context(), n, ironic.BulkOptions{Portgroup: true})
	if len(bulk) > 0 {
		t.Cleanup(func() { removeNodesFrom(t, bulk[0].UUID) })
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bulk-loaded %d nodes in %s", n, time.Since(start).Round(time.Millisecond))
	if len(bulk) != n {
		t.Fatalf("BulkLoad returned %d nodes, want %d", len(bulk), n)
	}

	// Through Ironic's API: the last copy is the template (enrolled
	// through the API) but for its identity, and the template is one of
	// this package's API-enrolled nodes but for its identity, its ports'
	// count and the times of its making.
	tmpl, last, enrolled := bulk[0], bulk[n-1], env.enrolled[0]
	for _, path := range []string{"/v1/nodes/%s", "/v1/ports/detail?node=%s", "/v1/portgroups/detail?node=%s"} {
		got := apiJSON(t, f, path, last, tmpl)
		want := apiJSON(t, f, path, tmpl, tmpl)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GET %s of a copy differs from the API-enrolled template (-template +copy):\n%s", path, diff)
		}
	}
	times := []string{"created_at", "updated_at", "provision_updated_at", "driver_internal_info"}
	got := apiJSON(t, f, "/v1/nodes/%s", tmpl, tmpl, times...)
	want := apiJSON(t, f, "/v1/nodes/%s", enrolled, tmpl, times...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("a bulk-loaded node differs from an API-enrolled adoptable node (-enrolled +bulk):\n%s", diff)
	}

	// Through the driver: every node, each as the fixture says.
	d := ironicdriver.New(nil)
	if err := d.Configure(t.Context(), map[string]string{"url": env.ironic.URL}); err != nil {
		t.Fatal(err)
	}
	listed := map[string]driver.Node{}
	err = d.(driver.Discoverer).ListManageableNodes(t.Context(), driver.ListOptions{}, func(nd driver.Node) error {
		listed[nd.UUID] = nd
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != env.nodes+n {
		t.Errorf("the driver listed %d nodes, want %d enrolled + %d bulk-loaded", len(listed), env.nodes, n)
	}
	for _, b := range bulk {
		if diff := cmp.Diff(wantAdoptable(b), listed[b.UUID]); diff != "" {
			t.Errorf("node %s as the driver lists it (-want +got):\n%s", b.UUID, diff)
			break
		}
	}
	// The API-enrolled ones have one port more; otherwise the same shape.
	e := listed[enrolled.UUID]
	e.Ports = e.Ports[:len(listed[tmpl.UUID].Ports)]
	if diff := cmp.Diff(shapeOf(e), shapeOf(listed[tmpl.UUID])); diff != "" {
		t.Errorf("bulk-loaded and API-enrolled nodes list differently (-enrolled +bulk):\n%s", diff)
	}
}

// apiJSON GETs path (with node's uuid) from Ironic and decodes it with
// node's identities (uuids, names, addresses, VIFs, image) replaced by
// as's, so that two nodes' answers compare equal when only those differ;
// drop names top-level keys (of the object or of each listed item) left
// out.
func apiJSON(t *testing.T, f *ironic.Fixture, path string, node, as ironic.Node, drop ...string) any {
	t.Helper()
	var raw json.RawMessage
	if err := f.Request(t.Context(), "GET", strings.Replace(path, "%s", node.UUID, 1), nil, &raw); err != nil {
		t.Fatal(err)
	}
	pairs := []string{node.UUID, as.UUID, node.Name, as.Name, node.ImageSource, as.ImageSource}
	for i := range min(len(node.Ports), len(as.Ports)) {
		p, q := node.Ports[i], as.Ports[i]
		pairs = append(pairs, p.UUID, q.UUID, p.Address, q.Address, p.InternalVIF, q.InternalVIF, p.ExtraVIF, q.ExtraVIF)
	}
	for i := range min(len(node.Portgroups), len(as.Portgroups)) {
		p, q := node.Portgroups[i], as.Portgroups[i]
		pairs = append(pairs, p.UUID, q.UUID, p.Address, q.Address, p.InternalVIF, q.InternalVIF, p.ExtraVIF, q.ExtraVIF)
	}
	for i := 0; i < len(pairs); i += 2 {
		if pairs[i] == "" { // strings.Replacer would insert at every position
			pairs = append(pairs[:i], pairs[i+2:]...)
			i -= 2
		}
	}
	var v any
	if err := json.Unmarshal([]byte(strings.NewReplacer(pairs...).Replace(string(raw))), &v); err != nil {
		t.Fatal(err)
	}
	dropKeys(v, drop)
	return v
}

func dropKeys(v any, keys []string) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for _, k := range keys {
		delete(m, k)
	}
	for _, list := range []string{"ports", "portgroups"} {
		if items, ok := m[list].([]any); ok {
			for _, it := range items {
				dropKeys(it, keys)
			}
		}
	}
}

// wantAdoptable is what the driver should report for an adoptable
// fixture node.
func wantAdoptable(n ironic.Node) driver.Node {
	out := driver.Node{
		UUID: n.UUID, Name: n.Name, ResourceClass: n.ResourceClass,
		PowerState: "power on", ProvisionState: "active", ImageSource: n.ImageSource,
		Ports: []driver.Port{}, Portgroups: []driver.Portgroup{}, Manageable: true,
	}
	for _, p := range n.Ports {
		out.Ports = append(out.Ports, driver.Port{UUID: p.UUID, Address: p.Address, NeutronPortID: p.NeutronPortID})
	}
	for _, pg := range n.Portgroups {
		out.Portgroups = append(out.Portgroups, driver.Portgroup{UUID: pg.UUID, Address: pg.Address, Mode: pg.Mode, NeutronPortID: pg.NeutronPortID})
	}
	return out
}

// shapeOf blanks a listed node's identities, keeping which fields are set.
func shapeOf(n driver.Node) driver.Node {
	blank := func(s string) string {
		if s == "" {
			return ""
		}
		return "set"
	}
	n.UUID, n.Name, n.ImageSource = blank(n.UUID), blank(n.Name), blank(n.ImageSource)
	for i, p := range n.Ports {
		n.Ports[i] = driver.Port{UUID: blank(p.UUID), Address: blank(p.Address), NeutronPortID: blank(p.NeutronPortID)}
	}
	for i, p := range n.Portgroups {
		n.Portgroups[i] = driver.Portgroup{UUID: blank(p.UUID), Address: blank(p.Address), Mode: p.Mode, NeutronPortID: blank(p.NeutronPortID)}
	}
	return n
}

// removeNodesFrom deletes, in Ironic's database, the node first and every
// node written after it, with their ports and portgroups (active nodes
// cannot be deleted through the API).
func removeNodesFrom(t *testing.T, first string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+env.ironic.DB+"?_pragma=busy_timeout(30000)")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	ctx := context.WithoutCancel(t.Context())
	var id int64
	if err := db.QueryRowContext(ctx, "SELECT id FROM nodes WHERE uuid = ?", first).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"DELETE FROM ports WHERE node_id >= ?", "DELETE FROM portgroups WHERE node_id >= ?",
		"DELETE FROM node_history WHERE node_id >= ?", "DELETE FROM nodes WHERE id >= ?",
	} {
		if _, err := db.ExecContext(ctx, q, id); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
