package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The operator CLI, bin/mogan, run as a user runs it: the built binary,
// its output piped (or on a pseudo-terminal), against the real host.

var (
	moganOnce sync.Once
	moganPath string
	moganErr  error
)

// moganBinary builds cmd/mogan into binDir once per test binary (only
// the tests that use it pay for it).
func moganBinary(t testing.TB) string {
	t.Helper()
	moganOnce.Do(func() {
		path := filepath.Join(binDir, "mogan")
		if out, err := exec.Command("go", "build", "-o", path, "../../cmd/mogan").CombinedOutput(); err != nil {
			moganErr = fmt.Errorf("go build ../../cmd/mogan: %w\n%s", err, out)
			return
		}
		moganPath = path
	})
	if moganErr != nil {
		t.Fatal(moganErr)
	}
	return moganPath
}

// moganEnv is the test's environment without what the CLI reads, plus env.
func moganEnv(env []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "OS_CLOUD", "OS_PASSWORD", "MOGAN_URL", "OS_CLIENT_CONFIG_FILE":
			continue
		}
		out = append(out, kv)
	}
	return append(out, env...)
}

// moganCmd is `mogan args…` with env, not started.
func moganCmd(ctx context.Context, t testing.TB, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, moganBinary(t), args...)
	cmd.Env = moganEnv(env)
	return cmd
}

// cliResult is how a run of the CLI ended.
type cliResult struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// exitCode is cmd's exit status after Wait's err; it fails the test when
// the command did not run or was killed.
func exitCode(t testing.TB, err error) int {
	t.Helper()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode()
	}
	t.Fatalf("mogan did not run to its end: %v", err)
	return -1
}

// runMogan runs `mogan args…` with piped output, within 3 minutes.
func runMogan(t testing.TB, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := moganCmd(ctx, t, env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	return cliResult{code: exitCode(t, err), stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
}

// cliNode is one entry of `mogan adopt -f json`.
type cliNode struct {
	NodeUUID   string  `json:"node_uuid"`
	ServerUUID *string `json:"server_uuid"`
	Outcome    string  `json:"outcome"`
	Reason     *string `json:"reason"`
}

// adoptResults decodes `mogan adopt -f json` output, by node; exactly the
// four keys are allowed.
func adoptResults(t testing.TB, r cliResult) map[string]cliNode {
	t.Helper()
	var list []cliNode
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		t.Fatalf("mogan adopt -f json: %v\nstdout: %s\nstderr: %s", err, r.stdout, r.stderr)
	}
	out := make(map[string]cliNode, len(list))
	for _, n := range list {
		if _, dup := out[n.NodeUUID]; dup {
			t.Errorf("node %s twice in the results", n.NodeUUID)
		}
		out[n.NodeUUID] = n
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
