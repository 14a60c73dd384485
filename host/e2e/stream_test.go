package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// vmHWM is the peak resident set size of pid, in KiB.
func vmHWM(t testing.TB, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// listCount streams the listing and counts its nodes.
func listCount(t *testing.T, url string) int {
	t.Helper()
	resp, err := get(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var body struct {
		Servers []struct {
			UUID string `json:"uuid"`
		} `json:"manageable_servers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return len(body.Servers)
}

// TestStream100000NodesInBoundedMemory streams 100,000 nodes from the test
// driver through the host to an HTTP client. The host's peak RSS must not
// grow with the node count: holding the listing would cost well over
// 100 MB; streaming costs a few buffers.
func TestStream100000NodesInBoundedMemory(t *testing.T) {
	control := filepath.Join(t.TempDir(), "control.json")
	write := func(count int) {
		if err := os.WriteFile(control, []byte(fmt.Sprintf(`{"count": %d}`, count)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(1000)
	h := startHost(t, hostConfig(t, "", "[driver]\nname = test\n[test]\ncontrol_file = "+control+"\n"))
	url := h.URL + "/v1/manageable_servers"

	// 9 in 10 of the test driver's nodes are manageable.
	if got := listCount(t, url); got != 900 {
		t.Fatalf("1,000-node listing returned %d; want 900", got)
	}
	small := vmHWM(t, h.pid())
	write(100000)
	if got := listCount(t, url); got != 90000 {
		t.Fatalf("100,000-node listing returned %d; want 90,000", got)
	}
	large := vmHWM(t, h.pid())
	t.Logf("host peak RSS: %d KiB after 1,000 nodes, %d KiB after 100,000 nodes (+%d KiB)", small, large, large-small)
	if growth := large - small; growth > 40*1024 {
		t.Errorf("host peak RSS grew by %d KiB for 99,000 more nodes; the listing is being held, not streamed", growth)
	}
}
