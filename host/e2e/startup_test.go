package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStartupRefusals: what an operator can get wrong stops the host at
// start-up with one clear line and a non-zero exit, before it listens.
func TestStartupRefusals(t *testing.T) {
	unmigrated := createDatabase(t)
	tests := map[string]struct {
		conf string
		want []string
	}{
		"unknown option": {
			conf: hostConfig(t, "", "[driver]\nname = noop\ndrivername = x\n"),
			want: []string{"mogan.conf", "[driver] drivername", "unknown option"},
		},
		"malformed file": {
			conf: hostConfig(t, "", "[driver\nname = noop\n"),
			want: []string{"mogan.conf", "malformed"},
		},
		"missing driver": {
			conf: hostConfig(t, "", "[driver]\nname = nosuch\n"),
			want: []string{`driver "nosuch" not found`, binDir, "noop", "test"},
		},
		"driver option refused": {
			conf: hostConfig(t, "", "[driver]\nname = noop\n[noop]\ncolour = blue\n"),
			want: []string{"colour"},
		},
		"sha256 mismatch": {
			conf: hostConfig(t, "", "[driver]\nname = noop\nsha256 = "+strings.Repeat("ab", 32)+"\n"),
			want: []string{"SHA-256"},
		},
		"unmigrated PostgreSQL": {
			conf: hostConfig(t, unmigrated, "[driver]\nname = noop\n"),
			want: []string{"db sync"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mogan.conf")
			if err := os.WriteFile(path, []byte(tc.conf), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(t.Context(), filepath.Join(binDir, "mogan-api"), "--config-file", path)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("mogan-api: err %v; want a non-zero exit\n%s", err, out)
			}
			last := lastLine(string(out))
			for _, w := range tc.want {
				if !strings.Contains(last, w) {
					t.Errorf("last line %q does not contain %q", last, w)
				}
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
