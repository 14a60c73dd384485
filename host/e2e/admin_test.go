package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite" // counting rows of the host's SQLite file

	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/plugins/ironic/ironicdriver"
	"github.com/mogan-manage/mogan-manage/plugins/noop/noopdriver"
)

// admin runs bin/mogan-api with args (an admin command) and returns what
// it wrote and its exit code.
func admin(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "mogan-api"), args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("mogan-api %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

func sha256Of(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestDriversCommand: mogan-api drivers starts each plugin of the
// directory and lists its name, version, protocol and sha256; a file that
// is not a plugin is listed with the reason and fails the command.
func TestDriversCommand(t *testing.T) {
	type row struct{ version, protocol, sha string }
	tests := map[string]struct {
		broken   bool
		wantCode int
	}{
		"noop, ironic and test":        {wantCode: 0},
		"and one that is not a plugin": {broken: true, wantCode: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			want := map[string]row{}
			for driver, version := range map[string]string{"noop": noopdriver.Version, "ironic": ironicdriver.Version, "test": "0.0.1-test"} {
				src := filepath.Join(binDir, "mogan-driver-"+driver)
				if err := os.Symlink(src, filepath.Join(dir, "mogan-driver-"+driver)); err != nil {
					t.Fatal(err)
				}
				want[driver] = row{version, "1", sha256Of(t, src)}
			}
			if tc.broken {
				path := filepath.Join(dir, "mogan-driver-broken")
				if err := os.WriteFile(path, []byte("#!/bin/sh\necho not a plugin >&2\nexit 1\n"), 0o700); err != nil {
					t.Fatal(err)
				}
				want["broken"] = row{"-", "-", sha256Of(t, path)}
			}
			stdout, stderr, code := admin(t, "drivers", "--plugin-dir", dir)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			got := map[string]row{}
			for _, line := range strings.Split(stdout, "\n") {
				f := strings.Fields(line)
				if len(f) == 5 && f[0] != "NAME" {
					got[f[0]] = row{f[1], f[2], f[4]}
				}
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(row{})); diff != "" {
				t.Errorf("table (-want +got):\n%s\n%s", diff, stdout)
			}
			if tc.broken && (!strings.Contains(stdout, "mogan-driver-broken: ") ||
				!strings.Contains(lastLine(stderr), "1 of 4 driver plugins did not start")) {
				t.Errorf("the broken plugin's reason is missing\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
			}
		})
	}
}

// TestSampleConfigCommand: what mogan-api sample-config writes, asking
// the built Ironic plugin over the contract, is etc/mogan.conf.sample (the
// config package's test generates it in-process).
func TestSampleConfigCommand(t *testing.T) {
	stdout, stderr, code := admin(t, "sample-config", "--plugin-dir", binDir, "--driver", "ironic")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "etc", "mogan.conf.sample"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), stdout); diff != "" {
		t.Errorf("sample-config differs from etc/mogan.conf.sample (run make sample-config) (-file +command):\n%s", diff)
	}
}

// TestCheckConfigCommand: check-config exits 0 with one line, or 2 with
// one line naming the file, section and option, as start-up would refuse
// it; a driver's section is checked against the options the driver
// describes, a secret is never echoed.
func TestCheckConfigCommand(t *testing.T) {
	const secret = "s3cr3t-e2e"
	tests := map[string]struct {
		extra    string // appended to the [driver] section
		wantCode int
		want     string // in the one line
	}{
		"valid, ironic": {
			extra: "name = ironic\n[ironic]\nurl = http://127.0.0.1:6385\nauth_type = http_basic\nusername = u\npassword = " + secret + "\n",
			want:  "mogan-api check-config: ",
		},
		"unknown option": {
			extra: "name = noop\n[quota]\ncolour = red\n", wantCode: 2,
			want: "mogan.conf: [quota] colour: unknown option",
		},
		"bad value": {
			extra: "name = noop\n[manage]\nreconcile_interval = often\n", wantCode: 2,
			want: `mogan.conf: [manage] reconcile_interval: "often" is not an integer`,
		},
		"bad driver option (schema)": {
			extra: "name = ironic\n[ironic]\nurl = http://127.0.0.1:6385\ntimeout = soon\n", wantCode: 2,
			want: `mogan.conf: [ironic] timeout: "soon" is not an integer`,
		},
		"unknown driver option (schema)": {
			extra: "name = ironic\n[ironic]\nurl = http://127.0.0.1:6385\ncolour = red\n", wantCode: 2,
			want: "mogan.conf: [ironic] colour: unknown option (known: api_version, auth_type, auth_url,",
		},
		"driver option refused by Configure, secret not echoed": {
			extra: "name = ironic\n[ironic]\nurl = http://127.0.0.1:6385\nauth_type = password\nauth_url = http://127.0.0.1:5000/v3\n" +
				"username = u\npassword = " + secret + "\n", wantCode: 2,
			want: "mogan.conf: [ironic] user_domain_name: is required with auth_type = password",
		},
		"a driver without options": {
			extra: "name = noop\n[noop]\nx = 1\n", wantCode: 2,
			want: "mogan.conf: [noop] x: unknown option: the driver takes no options",
		},
		"a driver that does not describe its options: its Configure judges": {
			extra: "name = test\n[test]\ncolour = red\n", wantCode: 2,
			want: "mogan.conf: [test] colour: unknown option (the test driver takes only control_file)",
		},
		"driver not found": {
			extra: "name = nosuch\n", wantCode: 2,
			want: `mogan.conf: [driver] name: driver "nosuch" not found`,
		},
		"bad database URL, its password not echoed": {
			extra: "name = noop\n[database]\nconnection = mysql://u:" + secret + "@127.0.0.1/mogan\n", wantCode: 2,
			want: `mogan.conf: [database] connection: unsupported scheme "mysql"`,
		},
		"secret in a bad URL not echoed": {
			extra: "name = noop\n[glance]\nurl = ftp://u:" + secret + "@127.0.0.1:9292\n", wantCode: 2,
			want: "mogan.conf: [glance] url: ",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mogan.conf")
			writeFile(t, path, hostConfig(t, "", tc.extra))
			stdout, stderr, code := admin(t, "check-config", "--config-file", path)
			answer := stdout
			if tc.wantCode != 0 {
				answer = stderr
			}
			if code != tc.wantCode || strings.Count(strings.TrimSpace(answer), "\n") != 0 {
				t.Fatalf("exit %d (want %d), want one line\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			if !strings.Contains(answer, tc.want) {
				t.Errorf("%q does not say %q", answer, tc.want)
			}
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("a secret was echoed:\n%s%s", stdout, stderr)
			}
		})
	}
}

// countRows counts the rows of the host's tables in its SQLite file.
func countRows(t *testing.T, dbPath string) map[string]int {
	t.Helper()
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts := map[string]int{}
	for _, table := range []string{"servers", "intents", "tombstones", "actions"} {
		var n int
		if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("counting %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

// TestRecoverCommand: recover --dry-run on a store with an interrupted
// adoption says what it would do and changes no row; recover does it (the
// noop driver cannot say the node names the server, so it is rolled
// back); while something answers on the API's address it refuses.
func TestRecoverCommand(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "mogan.sqlite")
	conf := hostConfig(t, "sqlite://"+dbPath, "name = noop\n")
	dbSync(t, conf)
	path := filepath.Join(t.TempDir(), "mogan.conf")
	writeFile(t, path, conf)

	// An adoption a dead replica left after its claim, its lease expired.
	st, err := store.Open(t.Context(), "sqlite://"+dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := store.Server{UUID: "5d3f6e2a-7b1c-4e8d-9a0f-1c2b3d4e5f60", NodeUUID: "0c5e4d3b-2a19-4877-8665-544332211000",
		Name: "interrupted", Status: store.StatusBuilding, CreatedAt: time.Now()}
	in := store.Intent{ServerUUID: srv.UUID, NodeUUID: srv.NodeUUID, RequestID: "req-e2e-dead", Owner: "dead-replica",
		LeaseExpiresAt: time.Now().Add(-time.Minute)}
	if err := st.ClaimNode(t.Context(), srv, in); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	before := countRows(t, dbPath)
	if before["intents"] != 1 || before["servers"] != 1 {
		t.Fatalf("rows before: %v", before)
	}

	stdout, stderr, code := admin(t, "recover", "--dry-run", "--config-file", path)
	if code != 0 {
		t.Fatalf("recover --dry-run: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"would be rolled back: manage of server " + srv.UUID + " (node " + srv.NodeUUID + ", request req-e2e-dead, replica dead-replica",
		"dry run: 1 intent to repair: 0 completed, 1 rolled back, 0 released, 0 left to the reconciler; nothing was changed",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("recover --dry-run does not say %q:\n%s", want, stdout)
		}
	}
	if diff := cmp.Diff(before, countRows(t, dbPath)); diff != "" {
		t.Errorf("recover --dry-run changed rows (-before +after):\n%s", diff)
	}

	// Something (a running mogan-api) answers on [api] host_ip:port.
	var port string
	for _, line := range strings.Split(conf, "\n") {
		if v, ok := strings.CutPrefix(line, "port = "); ok {
			port = v
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"recover"}, {"recover", "--dry-run"}} {
		_, stderr, code = admin(t, append(args, "--config-file", path)...)
		if code != 2 || !strings.Contains(stderr, "something answers on [api] host_ip:port 127.0.0.1:"+port) {
			t.Errorf("%v while the API answers: exit %d\n%s", args, code, stderr)
		}
	}
	_ = l.Close()
	if diff := cmp.Diff(before, countRows(t, dbPath)); diff != "" {
		t.Errorf("a refused recover changed rows (-before +after):\n%s", diff)
	}

	stdout, stderr, code = admin(t, "recover", "--config-file", path)
	if code != 0 {
		t.Fatalf("recover: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"rolled back: manage of server " + srv.UUID,
		"repair pass done: 1 intent to repair: 0 completed, 1 rolled back, 0 released, 0 left to the reconciler",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("recover does not say %q:\n%s", want, stdout)
		}
	}
	after := countRows(t, dbPath)
	if after["intents"] != 0 || after["servers"] != 0 {
		t.Errorf("rows after recover: %v; want the intent and the building server gone", after)
	}
	stdout, _, _ = admin(t, "recover", "--dry-run", "--config-file", path)
	if !strings.Contains(stdout, "dry run: 0 intents to repair") {
		t.Errorf("a second dry run:\n%s", stdout)
	}
}

// TestUnknownCommandDoesNotServe: a mistyped admin command exits 2 naming
// the commands, instead of starting a server.
func TestUnknownCommandDoesNotServe(t *testing.T) {
	_, stderr, code := admin(t, "driver", "--plugin-dir", binDir)
	if code != 2 || !strings.Contains(stderr, `unknown command "driver" (commands: db sync, drivers, check-config, recover, sample-config`) {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}
