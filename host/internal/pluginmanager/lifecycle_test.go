package pluginmanager

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/driver"

	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

func TestStopLeavesNoProcess(t *testing.T) {
	m, _, _ := setup(t, `{}`, 0)
	pid := m.Pid()
	if !proctest.Alive(pid) {
		t.Fatalf("plugin %d not running after Start", pid)
	}
	m.Stop()
	if proctest.Alive(pid) {
		t.Errorf("plugin %d still running after Stop", pid)
	}
	m.Stop() // idempotent
	if got := m.Pid(); got != 0 {
		t.Errorf("Pid after Stop = %d", got)
	}
	_, err := m.Driver().Info(t.Context())
	if !errors.Is(err, ErrDriverUnavailable) {
		t.Errorf("call after Stop = %v, want ErrDriverUnavailable", err)
	}
	if got := m.Pid(); got != 0 {
		t.Errorf("a call after Stop started plugin %d", got)
	}
}

// A host killed with SIGKILL cannot stop its plugin: the plugin must end
// by itself. The host here is this test binary run as helperHost.
func TestPluginDiesWithHost(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	host := exec.CommandContext(t.Context(), self, "-test.run=^$")
	// The killed host's plugin cannot clean its socket directory up: keep
	// it in a directory the test removes, with a path short enough for a
	// Unix socket.
	tmp, err := os.MkdirTemp("", "h")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(tmp) })
	host.Env = append(os.Environ(), helperHostEnv+"="+pluginDir(t, "test"), "TMPDIR="+tmp)
	host.Stderr = os.Stderr
	out, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = host.Process.Kill(); _ = host.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the helper host's output: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("helper host said %q", line)
	}
	if !proctest.Alive(pid) {
		t.Fatalf("plugin %d not running", pid)
	}
	if err := host.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = host.Wait()
	waitGone(t, pid, 10*time.Second)
}

// A listing of 100,000 nodes streams through the manager whole.
func TestStream100000Nodes(t *testing.T) {
	m, _, _ := setup(t, `{"count": 100000}`, 0)
	n, last := 0, ""
	err := m.Driver().ListManageableNodes(t.Context(), driver.ListOptions{IncludeUnmanageable: true}, func(node driver.Node) error {
		n++
		last = node.UUID
		if len(node.Ports) != 2 || len(node.Portgroups) != 1 {
			t.Fatalf("node %s has %d ports and %d portgroups", node.UUID, len(node.Ports), len(node.Portgroups))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 100000 || last != "00000000-0000-4000-8000-00000001869f" {
		t.Errorf("streamed %d nodes ending with %s, want 100000 ending with node 99999", n, last)
	}
}
