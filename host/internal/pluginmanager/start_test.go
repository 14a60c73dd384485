package pluginmanager

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

func TestNewNamesWhatIsThere(t *testing.T) {
	dir := pluginDir(t, "noop", "test")
	// Not drivers: a non-executable namesake and an unrelated tool.
	for name, mode := range map[string]os.FileMode{"mogan-driver-notes.txt": 0o644, "other-tool": 0o755} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, mode); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	missing := filepath.Join(empty, "nowhere")
	tests := map[string]struct {
		dir, name string
		want      string
	}{
		"unknown driver": {dir: dir, name: "foo",
			want: fmt.Sprintf(`driver "foo" not found: no executable mogan-driver-foo in %s (found: noop, test)`, dir)},
		"not executable": {dir: dir, name: "notes.txt",
			want: fmt.Sprintf(`driver "notes.txt" not found: no executable mogan-driver-notes.txt in %s (found: noop, test)`, dir)},
		"empty directory": {dir: empty, name: "noop",
			want: fmt.Sprintf(`driver "noop" not found: no executable mogan-driver-noop in %s (found: none)`, empty)},
		"missing directory": {dir: missing, name: "noop",
			want: fmt.Sprintf(`driver "noop" not found: cannot read plugin directory %s: open %s: no such file or directory`, missing, missing)},
		"no name": {dir: dir, name: "",
			want: `driver name "" is not valid: it is the part after "mogan-driver-" of a binary in the plugin directory`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := New(Config{Name: tc.name, PluginDir: tc.dir})
			if err == nil {
				t.Fatal("New succeeded")
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStartRefuses(t *testing.T) {
	dir := pluginDir(t, "noop")
	scripts := map[string]string{
		"chatty": "#!/bin/sh\necho hello, I am not a plugin\nsleep 1\n",
		"quits":  "#!/bin/sh\necho broken config >&2\nexit 1\n",
	}
	for name, script := range scripts {
		if err := os.WriteFile(filepath.Join(dir, binaryPrefix+name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]struct {
		cfg      Config
		contains []string
		kind     error  // when set, errors.Is must hold
		option   string // when set, driver.OptionOf must say it
	}{
		"shell script that talks": {
			cfg:      Config{Name: "chatty"},
			contains: []string{`driver "chatty"`, "mogan-driver-chatty", "hello, I am not a plugin"},
		},
		"shell script that exits": {
			cfg:      Config{Name: "quits"},
			contains: []string{`driver "quits"`, "broken config"},
		},
		"sha256 mismatch": {
			cfg:      Config{Name: "noop", SHA256: strings.Repeat("ab", sha256.Size)},
			contains: []string{`driver "noop"`, "refusing to start", "SHA-256 does not match"},
		},
		"sha256 not hex": {
			cfg:      Config{Name: "noop", SHA256: "xyz"},
			contains: []string{`driver "noop"`, `sha256 "xyz" is not a hex SHA-256 digest`},
		},
		"invalid option": {
			cfg:      Config{Name: "noop", Options: map[string]string{"colour": "blue"}},
			contains: []string{`driver "noop"`, "[noop] section", `option "colour"`},
			kind:     driver.ErrInvalidArgument,
			option:   "colour",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.cfg.PluginDir = dir
			m, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Stop()
			err = m.Start(t.Context())
			if err == nil {
				t.Fatal("Start succeeded")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans several lines: %q", msg)
			}
			for _, want := range tc.contains {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			if tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("error %v is not %v", err, tc.kind)
			}
			if got := driver.OptionOf(err); got != tc.option {
				t.Errorf("OptionOf = %q, want %q", got, tc.option)
			}
			if pid := m.Pid(); pid != 0 {
				t.Errorf("Pid = %d after a failed start", pid)
			}
		})
	}
}

func TestStartWithMatchingSHA256(t *testing.T) {
	dir := pluginDir(t, "noop")
	data, err := os.ReadFile(filepath.Join(dir, "mogan-driver-noop"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	m, err := New(Config{Name: "noop", PluginDir: dir, SHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(driver.Info{Name: "noop", Version: "1.0.0"}, m.Info()); diff != "" {
		t.Errorf("Info (-want +got):\n%s", diff)
	}
	_, err = m.Driver().GetManageableNode(t.Context(), "00000000-0000-4000-8000-000000000000")
	if !errors.Is(err, driver.ErrNotImplemented) {
		t.Errorf("noop GetManageableNode = %v, want ErrNotImplemented", err)
	}
}

func TestPluginLogsAreTagged(t *testing.T) {
	m, _, logs := setup(t, `{}`, 0)
	// Stderr is read asynchronously: Stop returns once it is drained.
	m.Stop()
	// The test driver logs "configured" at debug level from Configure.
	var found bool
	for line := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(line, "[DEBUG] host.driver.mogan-driver-test: configured") && strings.Contains(line, "driver=test") {
			found = true
		}
	}
	if !found {
		t.Errorf("no tagged plugin log line in:\n%s", logs.String())
	}
}
