package service

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeService is a launcher whose second argument says how it behaves;
// "serve" forks a worker, as Neutron does, and answers 200 on the port in
// its first argument.
const fakeService = `import http.server, os, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
if mode == "not-installed":
    sys.stderr.write("cannot import fake\n")
    sys.exit(3)
if mode == "fail":
    sys.stderr.write("boom: bad config\n")
    sys.exit(1)
if mode == "hang":
    time.sleep(3600)
if os.fork() == 0:
    while True:
        time.sleep(1)

class OK(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()

http.server.HTTPServer(("127.0.0.1", port), OK).serve_forever()
`

// options runs fakeService in mode, from a file or as Code.
func options(t *testing.T, mode string, asCode bool) Options {
	t.Helper()
	dir, port, err := Prepare(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := Options{
		Name: "fake", Package: "python3-fake", Dir: dir,
		Args:     []string{port, mode},
		Log:      filepath.Join(dir, "fake.log"),
		ReadyURL: "http://127.0.0.1:" + port + "/",
	}
	if asCode {
		// Code sees sys.argv[0] == "-c", then Args.
		o.Code = fakeService
		return o
	}
	o.Script = filepath.Join(dir, "fake.py")
	if err := os.WriteFile(o.Script, []byte(fakeService), 0o600); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestStartStop: the service answers, its forked worker is in its group,
// and Stop leaves none of the group running.
func TestStartStop(t *testing.T) {
	for name, asCode := range map[string]bool{"script": false, "code": true} {
		t.Run(name, func(t *testing.T) {
			p, err := Start(t.Context(), options(t, "serve", asCode))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop()
			if procs := p.Processes(); len(procs) != 2 {
				t.Errorf("processes %v, want the server and its worker", procs)
			}
			p.Stop()
			if procs := p.Processes(); len(procs) != 0 {
				t.Errorf("processes after Stop: %v", procs)
			}
			p.Stop() // twice is harmless
		})
	}
}

// TestStartFails: a launcher that cannot import its service names the
// package and the fix; any other early exit or a service that never
// answers returns the end of its log, and nothing is left running.
func TestStartFails(t *testing.T) {
	tests := map[string]struct {
		mode    string
		timeout time.Duration
		want    []string
	}{
		"not installed": {"not-installed", time.Minute, []string{"python3-fake is not installed: run `make test-deps`"}},
		"exits":         {"fail", time.Minute, []string{"fake: exited before answering (exit status 1)", "boom: bad config"}},
		"never answers": {"hang", time.Second, []string{"fake: did not answer at http://127.0.0.1:", "deadline exceeded"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), tc.timeout)
			defer cancel()
			p, err := Start(ctx, options(t, tc.mode, false))
			if err == nil {
				p.Stop()
				t.Fatal("Start: no error")
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

// TestParentDies starts the service from a helper process that exits
// without Stop: the service ends itself, unless told to outlive its
// parent, and then Attach stops it.
func TestParentDies(t *testing.T) {
	tests := map[string]struct {
		outlive  bool
		wantGone bool
	}{
		"dies with its parent":     {false, true},
		"outlives with the option": {true, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			helper := exec.Command(os.Args[0], "-test.run=^TestHelperStarter$")
			helper.Env = append(os.Environ(), "SERVICE_TEST_HELPER="+t.TempDir(), "SERVICE_TEST_OUTLIVE="+strconv.FormatBool(tc.outlive))
			helper.Stderr = os.Stderr
			out, err := helper.Output()
			if err != nil {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			var pid int
			for sc := bufio.NewScanner(strings.NewReader(string(out))); sc.Scan(); {
				if rest, ok := strings.CutPrefix(sc.Text(), "PID "); ok {
					pid, _ = strconv.Atoi(rest)
				}
			}
			if pid <= 0 {
				t.Fatalf("helper printed no pid:\n%s", out)
			}
			p := Attach(pid, 0)
			defer p.Stop()
			deadline := time.Now().Add(2 * time.Second) // the watch looks every 0.5 s
			for len(p.Processes()) > 0 && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			if gone := len(p.Processes()) == 0; gone != tc.wantGone {
				t.Errorf("2 s after its parent exited: gone %v, want %v", gone, tc.wantGone)
			}
			p.Stop()
			if procs := p.Processes(); len(procs) != 0 {
				t.Errorf("processes after Attach(…).Stop: %v", procs)
			}
		})
	}
}

// TestHelperStarter is TestParentDies' helper process: it starts the
// service, prints its pid and exits without stopping it.
func TestHelperStarter(t *testing.T) {
	dir := os.Getenv("SERVICE_TEST_HELPER")
	if dir == "" {
		return // not run as the helper
	}
	dir, port, err := Prepare(dir)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "fake.py")
	if err := os.WriteFile(script, []byte(fakeService), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Start(t.Context(), Options{
		Name: "fake", Package: "python3-fake", Dir: dir, Script: script, Args: []string{port, "serve"},
		Log: filepath.Join(dir, "fake.log"), ReadyURL: "http://127.0.0.1:" + port + "/",
		OutliveParent: os.Getenv("SERVICE_TEST_OUTLIVE") == "true",
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("PID %d\n", p.PID)
}

func TestTail(t *testing.T) {
	tests := map[string]struct {
		in   string
		n    int
		want string
	}{
		"fewer lines":      {"a\nb\n", 5, "a\nb"},
		"last lines":       {"a\nb\nc\nd\n", 2, "c\nd"},
		"no final newline": {"a\nb\nc", 1, "c"},
		"empty":            {"", 3, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Tail(tc.in, tc.n); got != tc.want {
				t.Errorf("Tail(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}
