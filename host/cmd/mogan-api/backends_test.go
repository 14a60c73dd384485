package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/config"
	"github.com/mogan-manage/mogan-manage/plugins/ironic/ironicdriver"
	"github.com/mogan-manage/mogan-manage/plugins/noop/noopdriver"
)

// The driver plugins the tests run, built once into builtDir.
var (
	buildOnce sync.Once
	builtDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if builtDir != "" {
		_ = os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// plugins is a directory holding mogan-driver-noop and -ironic, built
// from this tree.
func plugins(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		builtDir, buildErr = os.MkdirTemp("", "mogan-api-plugins-")
		if buildErr != nil {
			return
		}
		for name, pkg := range map[string]string{
			"noop":   "github.com/mogan-manage/mogan-manage/plugins/noop",
			"ironic": "github.com/mogan-manage/mogan-manage/plugins/ironic/cmd/mogan-driver-ironic",
		} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(builtDir, "mogan-driver-"+name), pkg).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtDir
}

func sumOf(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// conf writes a configuration: noauth, the built plugins, then body.
func conf(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mogan.conf")
	head := fmt.Sprintf("[DEFAULT]\nauth_strategy = noauth\nhost = test-1\n[driver]\nplugin_dir = %s\n", plugins(t))
	if err := os.WriteFile(path, []byte(head+body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// three is east and west on Ironic and lab on noop, after enabled_backends.
const three = "[east]\ndriver = ironic\nurl = http://127.0.0.1:6385\nauth_type = none\n" +
	"[west]\ndriver = ironic\nurl = http://127.0.0.1:6386\n" +
	"[lab]\ndriver = noop\n"

// TestCheckConfigChecksEveryBackend: check-config starts every backend's
// plugin as the start does; what one refuses is one line naming the file,
// the backend's section and the option. A configuration without
// enabled_backends is answered as it always was.
func TestCheckConfigChecksEveryBackend(t *testing.T) {
	badSum := strings.Repeat("ab", 32)
	tests := map[string]struct {
		body string
		want string // the line on stdout, or the error (after "<file>: ")
		ok   bool
	}{
		"three backends": {
			body: "[DEFAULT]\nenabled_backends = east, west, lab\n" + three, ok: true,
			want: "is valid (auth_strategy noauth, backends east (ironic), west (ironic), lab (noop), notifications noop)",
		},
		"one backend listed": {
			body: "[DEFAULT]\nenabled_backends = lab\n[lab]\ndriver = noop\n", ok: true,
			want: "is valid (auth_strategy noauth, backend lab (noop), notifications noop)",
		},
		"no enabled_backends": {
			body: "[driver]\nname = ironic\n[ironic]\nurl = http://127.0.0.1:6385\n", ok: true,
			want: "is valid (auth_strategy noauth, driver ironic, notifications noop)",
		},
		"an unknown option in the second backend": {
			body: "[DEFAULT]\nenabled_backends = east, west, lab\n" + three + "[west]\ncolour = red\n",
			want: "[west] colour: unknown option (known: api_version, auth_type, auth_url,",
		},
		"a bad value in the second backend": {
			body: "[DEFAULT]\nenabled_backends = east, west, lab\n" + three + "[west]\ntimeout = soon\n",
			want: `[west] timeout: "soon" is not an integer`,
		},
		"an option the second backend's Configure refuses": {
			body: "[DEFAULT]\nenabled_backends = east, west, lab\n" + three +
				"[west]\nauth_type = password\nauth_url = http://127.0.0.1:5000/v3\nusername = u\npassword = p\n",
			want: "[west] user_domain_name: is required with auth_type = password",
		},
		"an option of the noop backend": {
			body: "[DEFAULT]\nenabled_backends = east, west, lab\n" + three + "[lab]\nx = 1\n",
			want: "[lab] x: unknown option: the driver takes no options",
		},
		"a backend's driver not installed": {
			body: "[DEFAULT]\nenabled_backends = east, west, lab, dc2\n" + three + "[dc2]\ndriver = nosuch\n",
			want: `[dc2] driver: driver "nosuch" not found: no executable mogan-driver-nosuch in`,
		},
		"a backend's pin not its binary": {
			body: "[DEFAULT]\nenabled_backends = east, west, lab\n" + three + "[west]\nsha256 = " + badSum + "\n",
			want: `backend "west" (driver "ironic"): refusing to start ` + filepath.Join(plugins(t), "mogan-driver-ironic") +
				": its SHA-256 does not match [west] sha256 " + badSum,
		},
		"the first of two failures in order": {
			body: "[DEFAULT]\nenabled_backends = east, west, lab\n" + three + "[lab]\nx = 1\n[west]\ncolour = red\n",
			want: "[west] colour: unknown option",
		},
		"no enabled_backends, an unknown option": {
			body: "[driver]\nname = ironic\n[ironic]\nurl = http://127.0.0.1:6385\ncolour = red\n",
			want: "[ironic] colour: unknown option (known: api_version,",
		},
		"no enabled_backends, the driver not installed": {
			body: "[driver]\nname = nosuch\n",
			want: `[driver] name: driver "nosuch" not found`,
		},
		"no enabled_backends, the pin not its binary": {
			body: "[driver]\nname = noop\nsha256 = " + badSum + "\n",
			want: `driver "noop": refusing to start ` + filepath.Join(plugins(t), "mogan-driver-noop") +
				": its SHA-256 does not match [driver] sha256 " + badSum,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := conf(t, tc.body)
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), []string{"check-config", "--config-file", path}, &stdout, &stderr)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if want := "mogan-api check-config: " + path + " " + tc.want + "\n"; stdout.String() != want {
					t.Errorf("stdout = %q\nwant     %q", stdout.String(), want)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %s", stdout.String())
			}
			if msg := err.Error(); !strings.HasPrefix(msg, path+": "+tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q\nis not one line starting %q", msg, path+": "+tc.want)
			}
		})
	}
}

// TestStartBackendsRunsOneProcessEach: backends of one binary run in
// processes of their own, started together and stopped together.
func TestStartBackendsRunsOneProcessEach(t *testing.T) {
	cfg, err := config.Load(conf(t, "[DEFAULT]\nenabled_backends = a, b, c\n[a]\ndriver = noop\n[b]\ndriver = noop\n[c]\ndriver = noop\n"), config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	backends, err := newBackends(cfg, hclog.NewNullLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := startBackends(t.Context(), cfg, backends); err != nil {
		t.Fatal(err)
	}
	pids := map[int]string{}
	for _, b := range backends {
		pid := b.Manager.Pid()
		if other, ok := pids[pid]; ok || pid == 0 {
			t.Errorf("backend %s has pid %d (also %q's)", b.Config.Name, pid, other)
		}
		pids[pid] = b.Config.Name
	}
	stopBackends(backends)
	for _, b := range backends {
		if pid := b.Manager.Pid(); pid != 0 {
			t.Errorf("backend %s still runs pid %d after stopBackends", b.Config.Name, pid)
		}
	}
}

// TestDriversListsEachBackend: drivers --config-file lists each backend,
// in order, with its plugin, version, protocol, capabilities and SHA-256;
// one whose plugin does not start is listed with the reason and fails the
// command. Without --config-file, every plugin of the directory.
func TestDriversListsEachBackend(t *testing.T) {
	dir := plugins(t)
	ironicSum, noopSum := sumOf(t, filepath.Join(dir, "mogan-driver-ironic")), sumOf(t, filepath.Join(dir, "mogan-driver-noop"))
	ironicCaps := "discover,adopt,node_states,enroll,export,release"
	tests := map[string]struct {
		args     func(t *testing.T) []string
		wantRows [][]string
		wantErr  string
		wantLine string // in stdout
	}{
		"three backends": {
			args: func(t *testing.T) []string {
				return []string{"--config-file", conf(t, "[DEFAULT]\nenabled_backends = east, west, lab\n"+three)}
			},
			wantRows: [][]string{
				{"BACKEND", "DRIVER", "VERSION", "PROTOCOL", "CAPABILITIES", "SHA256"},
				{"east", "ironic", ironicdriver.Version, "1", ironicCaps, ironicSum},
				{"west", "ironic", ironicdriver.Version, "1", ironicCaps, ironicSum},
				{"lab", "noop", noopdriver.Version, "1", "-", noopSum},
			},
		},
		"no enabled_backends": {
			args: func(t *testing.T) []string {
				return []string{"--config-file", conf(t, "[driver]\nname = ironic\n[ironic]\nurl = http://127.0.0.1:6385\n")}
			},
			wantRows: [][]string{
				{"BACKEND", "DRIVER", "VERSION", "PROTOCOL", "CAPABILITIES", "SHA256"},
				{"ironic", "ironic", ironicdriver.Version, "1", ironicCaps, ironicSum},
			},
		},
		"a pin that does not match": {
			args: func(t *testing.T) []string {
				return []string{"--config-file", conf(t, "[DEFAULT]\nenabled_backends = east, west, lab\n"+three+"[lab]\nsha256 = "+ironicSum+"\n")}
			},
			wantRows: [][]string{
				{"BACKEND", "DRIVER", "VERSION", "PROTOCOL", "CAPABILITIES", "SHA256"},
				{"east", "ironic", ironicdriver.Version, "1", ironicCaps, ironicSum},
				{"west", "ironic", ironicdriver.Version, "1", ironicCaps, ironicSum},
				{"lab", "noop", "-", "-", "-", noopSum},
			},
			wantLine: "lab (mogan-driver-noop): refusing to start " + filepath.Join(dir, "mogan-driver-noop") +
				": its SHA-256 does not match [lab] sha256 " + ironicSum,
			wantErr: "1 of 3 backends did not start (this host speaks protocol 1)",
		},
		"a driver not installed": {
			args: func(t *testing.T) []string {
				return []string{"--config-file", conf(t, "[DEFAULT]\nenabled_backends = lab, dc2\n[lab]\ndriver = noop\n[dc2]\ndriver = nosuch\n")}
			},
			wantRows: [][]string{
				{"BACKEND", "DRIVER", "VERSION", "PROTOCOL", "CAPABILITIES", "SHA256"},
				{"lab", "noop", noopdriver.Version, "1", "-", noopSum},
				{"dc2", "nosuch", "-", "-", "-", "-"},
			},
			wantLine: "dc2 (mogan-driver-nosuch): open " + filepath.Join(dir, "mogan-driver-nosuch") + ": no such file or directory",
			wantErr:  "1 of 2 backends did not start",
		},
		"the plugin directory": {
			args: func(t *testing.T) []string { return []string{"--plugin-dir", dir} },
			wantRows: [][]string{
				{"NAME", "VERSION", "PROTOCOL", "CAPABILITIES", "SHA256"},
				{"ironic", ironicdriver.Version, "1", ironicCaps, ironicSum},
				{"noop", noopdriver.Version, "1", "-", noopSum},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), append([]string{"drivers"}, tc.args(t)...), &stdout, &stderr)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("failed: %v\n%s", err, stdout.String())
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v; want %q\n%s", err, tc.wantErr, stdout.String())
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			var rows [][]string
			for _, line := range lines[1:] {
				if f := strings.Fields(line); len(f) == len(tc.wantRows[0]) {
					rows = append(rows, f)
				}
			}
			if diff := cmp.Diff(tc.wantRows, rows); diff != "" {
				t.Errorf("table (-want +got):\n%s\n%s", diff, stdout.String())
			}
			if tc.wantLine != "" && !strings.Contains(stdout.String(), tc.wantLine) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantLine, stdout.String())
			}
		})
	}
}
