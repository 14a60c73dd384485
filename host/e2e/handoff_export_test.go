package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/inventory"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// handoffExportThenInventory: the spec's two use cases share one
// format. Four nodes of A, each with properties, traits and a BMC
// password Ironic masks, go to B two ways: two by `mogan migrate --from a
// --to b --adopt` (the handoff), two by `mogan migrate --from a --export`
// (YAML: the secret named, its value nowhere) fed to `mogan migrate -i
// FILE --to b --adopt` once the operator has named each port's network
// and the target image (A's cloud has no Neutron the export could read;
// its images are not B's), both with one secrets file. Each node ends the
// same in B either way: its name, hardware type, driver_info (the
// password set, masked as in A), resource class, properties (but the
// vendor Ironic caches), traits, deploy interface, image, its ports (MAC,
// PXE, physical network, each VIF a port of B's network bound to it) and
// portgroups (MAC, mode, name), adopted and protected. The handoff keeps
// the node's uuid and takes it out of A; the inventory gives it a new one
// and leaves A as it was (an export changes nothing).
func handoffExportThenInventory(t *testing.T, e *handoffEnv) {
	nodes := e.sourceNodes(t, 4)
	const password = "Bmc-s3cret-of-"
	for i, n := range nodes {
		patch := []map[string]any{
			{"op": "add", "path": "/properties", "value": map[string]any{
				"cpus": 8 + i, "memory_mb": 16384, "local_gb": 100 + i, "cpu_arch": "x86_64", "vendor": "cached by the conductor"}},
			{"op": "add", "path": "/driver_info/fake_password", "value": password + n.Name},
		}
		if code := ironicDo(t, http.MethodPatch, e.A.URL, "/v1/nodes/"+n.UUID, patch, nil); code != http.StatusOK {
			t.Fatalf("PATCH node %s: %d", n.UUID, code)
		}
		traits := map[string]any{"traits": []string{"CUSTOM_GOLD", fmt.Sprintf("CUSTOM_RACK_%d", i)}}
		if code := ironicDo(t, http.MethodPut, e.A.URL, "/v1/nodes/"+n.UUID+"/traits", traits, nil); code != http.StatusNoContent {
			t.Fatalf("PUT traits of node %s: %d", n.UUID, code)
		}
	}
	handed, exported := nodes[:2], nodes[2:]
	want, before := map[string]machineShape{}, map[string]map[string]any{}
	for _, n := range nodes {
		before[n.Name] = nodeRecord(t, e.A.URL, n.UUID)
		want[n.Name] = e.expectedShape(before[n.Name])
	}
	// A secrets file for each run (the CLI refuses an entry that names
	// none of its machines: a typo's guard).
	secretsFile := func(nodes []ironic.Node) string {
		var sb strings.Builder
		for _, n := range nodes {
			fmt.Fprintf(&sb, "%s:\n  fake_password: %s\n", n.Name, password+n.Name)
		}
		path := filepath.Join(t.TempDir(), "secrets.yaml")
		if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	h := startHandoffHost(t, e.hostConfig(t, "", handoffURLs{}, ""))
	env := []string{"MOGAN_URL=" + h.URL}

	// The export, edited as the operator would.
	r := runMogan(t, env, "migrate", "--from", "a", "--export", exported[0].UUID, exported[1].UUID)
	if r.code != 0 || !strings.Contains(r.stderr, "fake_password") {
		t.Fatalf("mogan migrate --export: exit %d, stderr %q (want the secret named)\n%s", r.code, r.stderr, r.stdout)
	}
	if strings.Contains(r.stdout, password) {
		t.Errorf("the export holds a secret's value:\n%s", r.stdout)
	}
	machines, err := inventory.Parse("export.yaml", []byte(r.stdout))
	if err != nil {
		t.Fatalf("the export does not read back: %v\n%s", err, r.stdout)
	}
	if len(machines) != 2 {
		t.Fatalf("the export has %d machines, want 2:\n%s", len(machines), r.stdout)
	}
	for i := range machines {
		m := &machines[i]
		if !slices.Equal(m.Secrets, []string{"fake_password"}) {
			t.Errorf("machine %s: secrets %v, want [fake_password]", m.Name, m.Secrets)
		}
		m.Image = e.Image
		for j := range m.Ports {
			m.Ports[j].Network = e.Network
		}
	}
	var edited bytes.Buffer
	if err := inventory.Write(&edited, inventory.YAML, machines); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(file, edited.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	r = runMoganWithin(t, 5*time.Minute, env, "migrate", "-i", file, "--to", "b", "--adopt", "--secrets-file", secretsFile(exported), "-f", "json")
	if r.code != 0 {
		t.Errorf("mogan migrate -i: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	fromInventory := migrateRows(t, r)
	args := []string{"migrate", "--from", "a", "--to", "b", "--adopt", "--secrets-file", secretsFile(handed), "-f", "json", handed[0].UUID, handed[1].UUID}
	r = runMoganWithin(t, 5*time.Minute, env, append(args, e.cliMaps(handed)...)...)
	if r.code != 0 {
		t.Errorf("mogan migrate --from a: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	fromA := migrateRows(t, r)

	for _, tc := range []struct {
		how   string
		nodes []ironic.Node
		rows  map[string]handoffRow
	}{{"the handoff", handed, fromA}, {"the inventory", exported, fromInventory}} {
		for _, n := range tc.nodes {
			row := tc.rows[n.Name]
			if row.Outcome != "migrated" {
				t.Errorf("%s: node %s: %+v (reason %q), want migrated", tc.how, n.Name, row, deref(row.Reason))
				continue
			}
			inB := deref(row.NodeUUID)
			if (inB == n.UUID) != (tc.how == "the handoff") {
				t.Errorf("%s: node %s is %s in B (it was %s in A)", tc.how, n.Name, inB, n.UUID)
			}
			if _, wrong := e.adoptedInB(t, h.URL, inB); wrong != "" && tc.how == "the handoff" {
				t.Errorf("%s: node %s: %s", tc.how, n.Name, wrong)
			}
			got := e.shapeInB(t, h.URL, inB)
			if diff := cmp.Diff(want[n.Name], got); diff != "" {
				t.Errorf("%s: node %s in B (-as in A +as in B):\n%s", tc.how, n.Name, diff)
			}
		}
	}
	for _, n := range exported {
		if diff := cmp.Diff(before[n.Name], nodeRecord(t, e.A.URL, n.UUID)); diff != "" {
			t.Errorf("exported node %s changed in A (-before +after):\n%s", n.Name, diff)
		}
	}
}

// machineShape is what a migration carries over of a node: the same in
// A, as the target should get it, and in B.
type machineShape struct {
	Name, Driver, ResourceClass, DeployInterface, Image string
	DriverInfo, Properties                              map[string]any
	Traits                                              []string
	Ports                                               []portShape
	Portgroups                                          []string // "MAC mode name"
	// Adopted: active, protected by its server's adoption, associated
	// with an active server of the host, powered on.
	Adopted bool
}

// portShape is a port as a migration carries it over: its VIF is a port
// of B's network, with its MAC, bound to the node.
type portShape struct {
	MAC             string
	PXE             any
	PhysicalNetwork any
	VIFOnTheNetwork bool
}

// expectedShape is the shape a node of A (its nodeRecord) should have in
// B: its own, the image B's, every port on B's network, adopted.
func (e *handoffEnv) expectedShape(rec map[string]any) machineShape {
	s := recordShape(rec)
	s.Image, s.Adopted = e.Image, true
	for i := range s.Ports {
		s.Ports[i].VIFOnTheNetwork = true
	}
	return s
}

// shapeInB reads a node's shape in B.
func (e *handoffEnv) shapeInB(t *testing.T, hostURL, node string) machineShape {
	t.Helper()
	rec := nodeRecord(t, e.B.URL, node)
	if rec == nil {
		return machineShape{}
	}
	s := recordShape(rec)
	srv := serversByNodeTB(t, hostURL)[node]
	s.Adopted = rec["provision_state"] == "active" && rec["protected"] == true && rec["power_state"] == "power on" &&
		srv.UUID != "" && srv.Status == "active" && rec["instance_uuid"] == srv.UUID &&
		rec["protected_reason"] == "adopted by mogan-manage server "+srv.UUID
	ports, _ := rec["ports"].([]any)
	for i, it := range ports {
		p, _ := it.(map[string]any)
		extra, _ := p["extra"].(map[string]any)
		vif, _ := extra["vif_port_id"].(string)
		np, err := e.Neutron.GetPort(t.Context(), vif)
		s.Ports[i].VIFOnTheNetwork = err == nil && np.NetworkID == e.NetworkID && strings.EqualFold(np.MAC, s.Ports[i].MAC) &&
			np.HostID == node && np.VNICType == "baremetal"
	}
	return s
}

// recordShape is the shape of a nodeRecord, without its VIFs and whether
// it is adopted.
func recordShape(rec map[string]any) machineShape {
	str := func(v any) string { s, _ := v.(string); return s }
	s := machineShape{Name: str(rec["name"]), Driver: str(rec["driver"]), ResourceClass: str(rec["resource_class"]),
		DeployInterface: str(rec["deploy_interface"])}
	s.DriverInfo, _ = rec["driver_info"].(map[string]any)
	props, _ := rec["properties"].(map[string]any)
	s.Properties = map[string]any{}
	for k, v := range props {
		if k != "vendor" {
			s.Properties[k] = v
		}
	}
	if info, ok := rec["instance_info"].(map[string]any); ok {
		s.Image = str(info["image_source"])
	}
	traits, _ := rec["traits"].([]any)
	for _, tr := range traits {
		s.Traits = append(s.Traits, str(tr))
	}
	slices.Sort(s.Traits)
	ports, _ := rec["ports"].([]any)
	for _, it := range ports {
		p, _ := it.(map[string]any)
		s.Ports = append(s.Ports, portShape{MAC: str(p["address"]), PXE: p["pxe_enabled"], PhysicalNetwork: p["physical_network"]})
	}
	portgroups, _ := rec["portgroups"].([]any)
	for _, it := range portgroups {
		pg, _ := it.(map[string]any)
		s.Portgroups = append(s.Portgroups, fmt.Sprintf("%v %v %v", pg["address"], pg["mode"], pg["name"]))
	}
	sort.Strings(s.Portgroups)
	return s
}
