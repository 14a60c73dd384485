package pluginmanager

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// helperHostEnv makes the test binary act as a tiny host (see
// TestPluginDiesWithHost): the value is the plugin directory.
const helperHostEnv = "PLUGINMANAGER_TEST_HELPER_HOST"

// builtDir holds the plugin binaries built once for all tests.
var builtDir string

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperHostEnv); dir != "" {
		os.Exit(helperHost(dir))
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	// Everything the tests and their plugins leave in TMPDIR is checked.
	tmp, err := os.MkdirTemp("", "pluginmanager-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if err := os.Setenv("TMPDIR", tmp); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "plugins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for name, pkg := range map[string]string{
		"test": "github.com/mogan-manage/mogan-manage/testenv/cmd/mogan-driver-test",
		"noop": "github.com/mogan-manage/mogan-manage/plugins/noop",
		// A plugin with the enroll capability (migration_test.go).
		"enroller": "./testdata/enroller",
	} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, binaryPrefix+name), pkg).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
			return 1
		}
	}
	builtDir = dir
	code := m.Run()
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "the tests left %d entries in TMPDIR, e.g. %s\n", len(left), left[0].Name())
		return 1
	}
	return code
}

// helperHost starts the test driver from dir, prints its pid and waits to
// be killed.
func helperHost(dir string) int {
	m, err := New(Config{Name: "test", PluginDir: dir})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Start(ctx); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println(m.Pid())
	<-ctx.Done()
	m.Stop()
	return 0
}

// pluginDir makes a plugin directory holding the named built drivers.
func pluginDir(t testing.TB, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		src := filepath.Join(builtDir, binaryPrefix+name)
		dst := filepath.Join(dir, binaryPrefix+name)
		if err := os.Link(src, dst); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// testDriverControl writes the test driver's control file.
func writeControl(t testing.TB, path, json string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(json), 0o600); err != nil {
		t.Fatal(err)
	}
}

// setup starts a manager on the test driver with the given control file
// contents; it is stopped when the test ends.
func setup(t testing.TB, control string, timeout time.Duration) (*Manager, string, *logBuffer) {
	t.Helper()
	dir := pluginDir(t, "test")
	controlPath := filepath.Join(t.TempDir(), "control.json")
	writeControl(t, controlPath, control)
	logs := &logBuffer{}
	m, err := New(Config{
		Name:        "test",
		PluginDir:   dir,
		CallTimeout: timeout,
		Options:     map[string]string{"control_file": controlPath},
		Logger:      logs.logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Stop()
		if t.Failed() {
			t.Logf("host log:\n%s", logs.String())
		}
	})
	return m, controlPath, logs
}

// logBuffer collects the host's log lines, and tells a test when one
// containing a given text arrives (seen).
type logBuffer struct {
	proctest.Buffer

	mu      sync.Mutex
	waiters map[string]chan struct{}
}

// Write keeps p (hclog writes one line per call) and wakes the waiters of
// any text it contains.
func (b *logBuffer) Write(p []byte) (int, error) {
	n, err := b.Buffer.Write(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	for text, ch := range b.waiters {
		if bytes.Contains(p, []byte(text)) {
			close(ch)
			delete(b.waiters, text)
		}
	}
	return n, err
}

// seen returns a channel closed once a line containing text is logged
// (at once when one already was): an event to wait on, not a sleep.
func (b *logBuffer) seen(text string) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	ch := make(chan struct{})
	if strings.Contains(b.String(), text) {
		close(ch)
		return ch
	}
	if b.waiters == nil {
		b.waiters = map[string]chan struct{}{}
	}
	if old, ok := b.waiters[text]; ok {
		return old
	}
	b.waiters[text] = ch
	return ch
}

func (b *logBuffer) logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "host", Output: b, Level: hclog.Debug})
}

// waitGone polls until pid is gone, failing after limit.
func waitGone(t *testing.T, pid int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for proctest.Alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running after %s", pid, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func kill(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", pid, err)
	}
}
