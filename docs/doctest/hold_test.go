package doctest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// holdFor writes the shell's environment (export lines, with the doc's
// path mapping as comments) to file and waits until the file is removed
// or the test's deadline nears.
func holdFor(t *testing.T, file string, w *world) {
	var b strings.Builder
	for _, kv := range w.Env {
		k, v, _ := strings.Cut(kv, "=")
		b.WriteString("export " + k + "='" + v + "'\n")
	}
	b.WriteString("cd '" + w.Work + "'\n")
	for from, to := range w.paths() {
		b.WriteString("# " + from + " -> " + to + "\n")
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("DOCTEST_HOLD: environment in %s (source it); remove the file to go on", filepath.Clean(file))
	deadline, ok := t.Deadline()
	for {
		if _, err := os.Stat(file); err != nil {
			return
		}
		if ok && time.Until(deadline) < time.Minute {
			return
		}
		time.Sleep(time.Second)
	}
}
