package doctest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// The documents whose blocks the tests check.
var documents = []string{"docs/operator.md", "docs/plugin-authors.md"}

// TestOperatorDoc runs every shell block of docs/operator.md, in order,
// against a real Keystone, Ironic, Glance and Neutron, and the old cloud
// of its "Move machines from another cloud" (oldCloud), with the binaries
// built from this tree: an operator following the doc migrates machines
// from an inventory, adopts a node enrolled by hand and back, and moves
// machines from the old cloud's Ironic and one back. For writing the doc: DOCTEST_HOLD=file starts the same
// services, writes the shell's environment to file and waits until it is
// removed, to try commands by hand (DOCTEST_BIN=dir takes the binaries from
// dir instead of building them); DOCTEST_OUT=file keeps all the blocks'
// output.
func TestOperatorDoc(t *testing.T) {
	const doc = "docs/operator.md"
	if hold := os.Getenv("DOCTEST_HOLD"); hold != "" {
		holdFor(t, hold, newWorld(t))
	}
	blocks := readDoc(t, doc)
	runs := 0
	for _, b := range blocks {
		switch {
		case b.Runs():
			runs++
		case b.Lang == "sh":
			t.Logf("%s:%d: not run: %s", doc, b.Line, b.Skip)
		}
	}
	if runs < 10 {
		t.Fatalf("%s has %d shell blocks that run; the walk-through has more", doc, runs)
	}
	start := time.Now()
	w := newWorld(t)
	started := time.Now()
	problems, output := runBlocks(t.Context(), doc, blocks, w)
	// The budget is a few minutes on two quiet cores: these say where it goes.
	t.Logf("the clouds started in %s; the %d blocks ran in %s", started.Sub(start).Round(time.Second), runs, time.Since(started).Round(time.Second))
	if out := os.Getenv("DOCTEST_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(output), 0o600); err != nil {
			t.Error(err)
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestQuotedFilesAreTheTree checks every same-as and excerpt-of block:
// the docs quote the systemd unit, the example driver, the SDK's
// interfaces and the proto as they are in the tree.
func TestQuotedFilesAreTheTree(t *testing.T) {
	quoted := 0
	for _, doc := range documents {
		for _, b := range readDoc(t, doc) {
			path := b.SameAs + b.ExcerptOf
			if path == "" {
				continue
			}
			quoted++
			file, err := os.ReadFile(filepath.Join(repoRoot, path))
			if err != nil {
				t.Errorf("%s:%d: %v", doc, b.Line, err)
				continue
			}
			switch {
			case b.SameAs != "" && b.Text != string(file):
				t.Errorf("%s:%d: the block is not %s as it is in the tree: copy the file into the doc", doc, b.Line, path)
			case b.ExcerptOf != "" && !strings.Contains(string(file), b.Text):
				t.Errorf("%s:%d: %s no longer contains the block: quote it again", doc, b.Line, path)
			}
		}
	}
	if quoted < 6 { // the unit; main.go, discover.go, the conformance test, Driver, ProtocolVersion
		t.Errorf("%d quoting blocks; the docs quote the systemd unit, the example driver, the SDK and the proto", quoted)
	}
}

// TestSystemdUnitVerifies runs systemd-analyze verify on
// etc/systemd/mogan-api.service and fails on any warning too. ExecStart
// points at this test's own executable instead of /usr/local/bin/mogan-api:
// verify only checks that the binary exists and is executable (it runs
// nothing); TestOperatorDoc runs the unit's command line itself. Skipped only where systemd-analyze is absent.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian: systemd)")
	}
	unit, err := os.ReadFile(filepath.Join(repoRoot, "etc/systemd/mogan-api.service"))
	if err != nil {
		t.Fatal(err)
	}
	const execStart = "ExecStart=/usr/local/bin/mogan-api --config-file /etc/mogan/mogan.conf\n"
	if !strings.Contains(string(unit), execStart) {
		t.Fatalf("the unit lacks %q, the command docs/operator.md runs", execStart)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mogan-api.service")
	local := strings.Replace(string(unit), "/usr/local/bin/mogan-api", self, 1)
	if err := os.WriteFile(path, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify mogan-api.service: %v\n%s", err, out)
	}
}

// TestPluginGuideInventoryDecodes decodes the inventory file the plugin
// guide shows as the example driver does, refusing a field driver.Node
// does not have: the guide's field names are the SDK's.
func TestPluginGuideInventoryDecodes(t *testing.T) {
	var found int
	for _, b := range readDoc(t, "docs/plugin-authors.md") {
		if b.Lang != "json" {
			continue
		}
		found++
		dec := json.NewDecoder(strings.NewReader(b.Text))
		dec.DisallowUnknownFields()
		var nodes []driver.Node
		if err := dec.Decode(&nodes); err != nil {
			t.Errorf("docs/plugin-authors.md:%d: %v", b.Line, err)
			continue
		}
		if len(nodes) == 0 || !nodes[0].Manageable || nodes[len(nodes)-1].Reason == "" {
			t.Errorf("docs/plugin-authors.md:%d: %+v; want a manageable node first and one with a reason last", b.Line, nodes)
		}
	}
	if found != 1 {
		t.Errorf("docs/plugin-authors.md has %d json blocks, want the inventory file's one", found)
	}
}
