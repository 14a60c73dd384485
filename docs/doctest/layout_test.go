package doctest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// layoutRow is one row of the README's layout table: the path it is about
// (without its trailing slash) and the names in backticks that it gives.
type layoutRow struct {
	path  string
	names []string
}

var (
	rowRE  = regexp.MustCompile("^\\| `([^`]+)/` \\| (.*) \\|$")
	nameRE = regexp.MustCompile("`([^`]+)`")
)

// readmeLayout reads the rows of README.md's "## Layout" table.
func readmeLayout(t *testing.T) []layoutRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Layout\n")
	if !ok {
		t.Fatal(`README.md has no "## Layout" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var rows []layoutRow
	for _, line := range strings.Split(section, "\n") {
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		row := layoutRow{path: m[1]}
		for _, n := range nameRE.FindAllStringSubmatch(m[2], -1) {
			row.names = append(row.names, strings.TrimSuffix(n[1], "/"))
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		t.Fatal("README.md's layout table has no rows")
	}
	return rows
}

// TestReadmeLayoutCoversTheTree fails when the README's layout table
// misses a top-level directory or a Go package, or names a directory that
// is gone: a newcomer reads the tree from it. A package is covered by the
// row of the longest path above it that names it (`internal/api`, or just
// `api`) or is its own row.
func TestReadmeLayoutCoversTheTree(t *testing.T) {
	rows := readmeLayout(t)
	for _, r := range rows {
		if _, err := os.Stat(filepath.Join(repoRoot, r.path)); err != nil {
			t.Errorf("the layout table has a row for %s/, which is not in the tree", r.path)
		}
	}
	entries, err := os.ReadDir(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		// bin/ and tmp/ are build output; dot-directories are tools' own
		// (.ci/ has a row all the same).
		if !e.IsDir() || name == "bin" || name == "tmp" || strings.HasPrefix(name, ".") {
			continue
		}
		found := false
		for _, r := range rows {
			found = found || r.path == name || strings.HasPrefix(r.path, name+"/")
		}
		if !found {
			t.Errorf("the README's layout table has no row for the top-level directory %s/", name)
		}
	}
	cmd := exec.CommandContext(t.Context(), "go", "list", "./...")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		_, rel, _ := strings.Cut(pkg, "github.com/mogan-manage/mogan-manage/")
		if !covered(rows, rel) {
			t.Errorf("the README's layout table does not name the package %s (add it, in backticks, to the row of the directory above it)", rel)
		}
	}
}

// covered reports whether the row of the longest path above pkg (a path
// relative to the repository) is pkg's own or names it.
func covered(rows []layoutRow, pkg string) bool {
	var best *layoutRow
	for i, r := range rows {
		if (pkg == r.path || strings.HasPrefix(pkg, r.path+"/")) && (best == nil || len(r.path) > len(best.path)) {
			best = &rows[i]
		}
	}
	if best == nil {
		return false
	}
	if pkg == best.path {
		return true
	}
	rel := "/" + strings.TrimPrefix(pkg, best.path+"/")
	for _, n := range best.names {
		if strings.HasSuffix(rel, "/"+n) {
			return true
		}
	}
	return false
}

func TestCovered(t *testing.T) {
	rows := []layoutRow{
		{path: "host", names: []string{"cmd/mogan-api", "internal/api", "auth", "e2e"}},
		{path: "plugins/noop", names: []string{"noopdriver"}},
	}
	tests := map[string]bool{
		"host/cmd/mogan-api":      true,
		"host/internal/api":       true,
		"host/internal/auth":      true,
		"host/e2e":                true,
		"host/internal/store":     false,
		"host/internal/apix":      false,
		"plugins/noop":            true,
		"plugins/noop/noopdriver": true,
		"plugins/ironic":          false,
		"examples/x":              false,
	}
	for pkg, want := range tests {
		if got := covered(rows, pkg); got != want {
			t.Errorf("covered(%s) = %v, want %v", pkg, got, want)
		}
	}
}
