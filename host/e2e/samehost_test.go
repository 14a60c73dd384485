package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/holdproxy"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// Two mogan-api processes with the same [DEFAULT] host on one database
// (issue 15, finding 2): the second must refuse to start, naming the
// clash, and never take the first one's adoptions; a host SIGKILLed and
// restarted at once is never refused.

// startRefused runs mogan-api with conf, which must refuse to start, and
// returns its output once it has exited. A host that starts serving
// instead fails the test and is returned running (nil when it refused),
// to be stopped by the caller or at the test's end.
func startRefused(t *testing.T, conf string) (string, *host) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mogan.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var port string
	for line := range strings.SplitSeq(conf, "\n") {
		if v, ok := strings.CutPrefix(line, "port = "); ok {
			port = v
		}
	}
	h := &host{URL: "http://127.0.0.1:" + port, logs: &proctest.Buffer{}, done: make(chan struct{})}
	h.cmd = exec.Command(filepath.Join(binDir, "mogan-api"), "--config-file", path)
	h.cmd.Stdout, h.cmd.Stderr = h.logs, h.logs
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	t.Cleanup(func() { h.stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-h.done:
			if code := h.cmd.ProcessState.ExitCode(); code == 0 {
				t.Errorf("mogan-api exited 0; want a non-zero exit refusing to start:\n%s", h.logs)
			}
			return h.logs.String(), nil
		default:
		}
		if h.started() {
			t.Errorf("mogan-api started although another one runs with its [DEFAULT] host on the database:\n%s", h.logs)
			return h.logs.String(), h
		}
		if time.Now().After(deadline) {
			t.Fatalf("mogan-api neither refused nor started in 30 s:\n%s", h.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkClash checks the refusal's last line names the clash: the host
// name, and that another mogan-api runs with it.
func checkClash(t *testing.T, out, name string) {
	t.Helper()
	last := strings.ToLower(lastLine(out))
	if !strings.Contains(last, name) || !strings.Contains(last, "host") ||
		(!strings.Contains(last, "another") && !strings.Contains(last, "already")) {
		t.Errorf("the refusal's last line %q does not say another mogan-api runs with host %s; output:\n%s", lastLine(out), name, out)
	}
}

func TestSameHostRefused(t *testing.T) {
	t.Run("PostgreSQL, adoptions in flight", func(t *testing.T) {
		ironicSrv, nodes := startIronic(t, 7)
		inFlight, late := nodes[:6], nodes[6]
		proxy, err := holdproxy.Start(ironicSrv.URL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(proxy.Close)
		db := createDatabase(t)
		extra := "[manage]\nreconcile_interval = 1\nintent_lease = 5\n"
		r2conf := replicaConfig(t, db, "r2", proxy.URL, 60, extra)
		dbSync(t, r2conf)
		r2 := startHost(t, r2conf)

		// Six adoptions on r2, each waiting for its association (PATCH).
		patches := proxy.Hold(http.MethodPatch, `^/v1/nodes/`, holdproxy.BeforeForward)
		answers := make([]<-chan answer, len(inFlight))
		for i, n := range inFlight {
			answers[i] = adoptLater(t, r2.URL, n.UUID)
		}
		eventually(t, time.Minute, func() string {
			if n := proxy.Count(patches); n < len(inFlight) {
				return fmt.Sprintf("%d of r2's %d adoptions have reached their PATCH", n, len(inFlight))
			}
			return ""
		})

		// r8, named r2 too, on the same database: refused, naming the clash.
		out, r8 := startRefused(t, replicaConfig(t, db, "r2", ironicSrv.URL, 30, extra))
		if r8 == nil {
			checkClash(t, out, "r2")
		}
		patches.Release()
		for i, ch := range answers {
			if a := await(t, ch, "an adoption on r2"); a.code != http.StatusCreated {
				t.Errorf("r2's adoption of node %s answered %d %s; want 201", inFlight[i].UUID, a.code, a.body)
			}
		}
		wrong := settle(20*time.Second, func() string {
			if bad, adopted := broken(t, r2.URL, ironicSrv.URL, inFlight); len(bad) > 0 || adopted != len(inFlight) {
				return fmt.Sprintf("%d of r2's %d adoptions adopted; broken: %s", adopted, len(inFlight), strings.Join(bad, "; "))
			}
			return ""
		})
		if wrong != "" {
			t.Errorf("%s", wrong)
		}
		if r8 != nil {
			r8.stop(t)
		}

		// r2 SIGKILLed while an adoption is mid-way (Ironic acted), and
		// restarted at once with the same configuration: it starts, never
		// refused, and completes the adoption before it answers.
		proxy.Clear()
		acted := proxy.Hold(http.MethodPatch, `^/v1/nodes/`, holdproxy.AfterForward)
		var wg sync.WaitGroup
		adoptAsync(r2.URL, late.UUID, &wg)
		waitClosed(t, acted.Reached, time.Minute, "the last adoption's PATCH never reached the proxy")
		r2.kill(t)
		acted.Release()
		proxy.Clear()
		wg.Wait()
		again := startHost(t, r2conf)
		if bad, adopted := broken(t, again.URL, ironicSrv.URL, []ironic.Node{late}); len(bad) > 0 || adopted != 1 {
			t.Errorf("r2 restarted after SIGKILL did not complete the adoption Ironic had done: %s", strings.Join(bad, "; "))
		}
	})

	t.Run("SQLite, one file", func(t *testing.T) {
		db := "sqlite://" + filepath.Join(t.TempDir(), "mogan.sqlite")
		conf := withHost(hostConfig(t, db, "[driver]\nname = test\n"), "s1")
		first := startHost(t, conf)
		out, second := startRefused(t, withHost(hostConfig(t, db, "[driver]\nname = test\n"), "s1"))
		if second == nil {
			checkClash(t, out, "s1")
		} else {
			second.stop(t)
		}
		// SIGKILLed, restarted at once: the lock died with the process.
		first.kill(t)
		startHost(t, conf)
	})
}
