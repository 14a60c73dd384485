package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

// shipped are the packages of the module that ship or are built from the
// public SDK alone: the host, the SDK, the drivers, the operator CLI, the
// contract and the example driver.
var shipped = []string{"./host/...", "./shared/...", "./plugins/...", "./cmd/...", "./proto/...", "./examples/..."}

// TestNothingShippedImportsTestenv: no shipped package depends on a test
// harness, directly or through another package (test files may; go list
// -deps without -test does not follow them).
func TestNothingShippedImportsTestenv(t *testing.T) {
	args := append([]string{"list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`}, shipped...)
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages: %q", len(pkgs), out)
	}
	for _, line := range pkgs {
		pkg, deps, _ := strings.Cut(line, " ")
		for _, dep := range strings.Fields(deps) {
			if strings.Contains(dep, "/mogan-manage/testenv") {
				t.Errorf("%s depends on the test harness %s", pkg, dep)
			}
		}
	}
}
