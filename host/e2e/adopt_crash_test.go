package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/holdproxy"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// The crash-safety of adoption against a real Ironic: the host is SIGKILLed
// at the worst moments (a proxy in front of Ironic holds the association
// before or after Ironic acted), restarted, and by the time it answers
// every node is adopted or untouched.

// startIronic runs a standalone Ironic with n adoptable nodes.
func startIronic(t *testing.T, n int) (*ironic.Server, []ironic.Node) {
	t.Helper()
	srv, err := ironic.Start(t.Context(), ironic.Options{Dir: t.TempDir(), DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	nodes, err := srv.Fixture().Enroll(t.Context(), ironic.Mix{Adoptable: n})
	if err != nil {
		t.Fatal(err)
	}
	return srv, nodes
}

// ironicHostConfig is a host on the Ironic driver at ironicURL.
func ironicHostConfig(t *testing.T, db, ironicURL, extra string) string {
	t.Helper()
	return hostConfig(t, db, fmt.Sprintf("[driver]\nname = ironic\ncall_timeout = 60\n[ironic]\nurl = %s\nauth_type = none\n", ironicURL)+extra)
}

// kill SIGKILLs the host (its plugin follows it).
func (h *host) kill(t testing.TB) {
	t.Helper()
	_ = h.cmd.Process.Kill()
	<-h.done
}

// adoptAsync posts an adoption and ignores its outcome (the host dies).
func adoptAsync(url, node string, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/manageable_servers",
			strings.NewReader(`{"name": "n", "node_uuid": "`+node+`"}`))
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
		}
	}()
}

// killMidStep adopts node through h and SIGKILLs h once the proxy holds
// rule's request, then closes the proxy (what it held before the service
// never reaches it) and waits for the orphaned request to end.
func killMidStep(t *testing.T, h *host, proxy *holdproxy.Proxy, rule *holdproxy.Rule, node string) {
	t.Helper()
	var wg sync.WaitGroup
	adoptAsync(h.URL, node, &wg)
	select {
	case <-rule.Reached:
	case <-time.After(60 * time.Second):
		t.Fatalf("the step never reached the proxy:\n%s", h.logs)
	}
	h.kill(t)
	proxy.Close()
	wg.Wait()
}

type serverRow struct {
	UUID     string `json:"uuid"`
	NodeUUID string `json:"node_uuid"`
	Status   string `json:"status"`
}

// serversByNode reads every server through the API.
func serversByNode(t *testing.T, hostURL string) map[string]serverRow {
	t.Helper()
	code, body := status(t, hostURL+"/v1/servers/detail")
	if code != http.StatusOK {
		t.Fatalf("servers: %d %s", code, body)
	}
	var list struct {
		Servers []serverRow `json:"servers"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]serverRow{}
	for _, s := range list.Servers {
		out[s.NodeUUID] = s
	}
	return out
}

// broken lists the nodes that are neither adopted (an active server whose
// uuid Ironic records) nor untouched (no server, no instance_uuid).
func broken(t *testing.T, hostURL, ironicURL string, nodes []ironic.Node) (bad []string, adopted int) {
	t.Helper()
	servers := serversByNode(t, hostURL)
	for _, n := range nodes {
		inst, _ := ironicNode(t, ironicURL, n.UUID)["instance_uuid"].(string)
		srv, has := servers[n.UUID]
		switch {
		case has && srv.Status == "active" && inst == srv.UUID:
			adopted++
		case !has && inst == "":
		default:
			bad = append(bad, fmt.Sprintf("node %s: server %+v, Ironic instance_uuid %q", n.UUID, srv, inst))
		}
	}
	return bad, adopted
}

func TestKillMidAdoptionThenRestart(t *testing.T) {
	cases := map[string]struct {
		phase       holdproxy.Phase
		wantAdopted bool
	}{
		"killed before Ironic acted": {holdproxy.BeforeForward, false},
		"killed after Ironic acted":  {holdproxy.AfterForward, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ironicSrv, nodes := startIronic(t, 1)
			proxy, err := holdproxy.Start(ironicSrv.URL)
			if err != nil {
				t.Fatal(err)
			}
			dbPath := filepath.Join(t.TempDir(), "mogan.sqlite")
			db := "sqlite://" + dbPath
			h := startHost(t, ironicHostConfig(t, db, proxy.URL, ""))
			rule := proxy.Hold(http.MethodPatch, `^/v1/nodes/`, tc.phase)
			killMidStep(t, h, proxy, rule, nodes[0].UUID)
			unfinished := intentServers(t, dbPath)
			if len(unfinished) != 1 {
				t.Fatalf("intents left by the killed host: %v; want one", unfinished)
			}

			h2 := startHost(t, ironicHostConfig(t, db, ironicSrv.URL, ""))
			bad, adopted := broken(t, h2.URL, ironicSrv.URL, nodes)
			if len(bad) > 0 {
				t.Fatalf("right after the restart:\n%s\nhost log:\n%s", strings.Join(bad, "\n"), h2.logs)
			}
			if (adopted == 1) != tc.wantAdopted {
				t.Errorf("adopted = %d, want adopted %v", adopted, tc.wantAdopted)
			}
			if !strings.Contains(h2.logs.String(), "repaired an interrupted adoption") {
				t.Errorf("the repair pass logged nothing:\n%s", h2.logs)
			}
			checkRepairAction(t, h2.URL, unfinished[0], tc.wantAdopted)
		})
	}
}

// TestKill50ConcurrentAdoptions: 50 adoptions of distinct nodes, the host
// SIGKILLed while they are in flight, restarted: zero broken nodes.
func TestKill50ConcurrentAdoptions(t *testing.T) {
	const n = 50
	ironicSrv, nodes := startIronic(t, n)
	proxy, err := holdproxy.Start(ironicSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	db := "sqlite://" + filepath.Join(t.TempDir(), "mogan.sqlite")
	h := startHost(t, ironicHostConfig(t, db, proxy.URL, ""))
	patches := proxy.Delay(http.MethodPatch, `^/v1/nodes/`, 400*time.Millisecond)
	var wg sync.WaitGroup
	for _, node := range nodes {
		adoptAsync(h.URL, node.UUID, &wg)
	}
	// Kill when the first associations have gone through and the rest are
	// in flight: some adopted, some mid-way, some not yet begun.
	deadline := time.Now().Add(90 * time.Second)
	associated := 0
	for associated < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		associated = associatedCount(t, ironicSrv.URL)
	}
	h.kill(t)
	proxy.Close()
	wg.Wait()

	// Restarted with a quick reconciler: a PATCH Ironic was still applying
	// when the repair pass ran is released through its tombstone.
	h2 := startHost(t, ironicHostConfig(t, db, ironicSrv.URL, "[manage]\nreconcile_interval = 1\n"))
	var bad []string
	var adopted int
	for end := time.Now().Add(30 * time.Second); ; {
		bad, adopted = broken(t, h2.URL, ironicSrv.URL, nodes)
		if len(bad) == 0 || time.Now().After(end) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(bad) > 0 {
		t.Fatalf("%d broken nodes:\n%s\nhost log:\n%s", len(bad), strings.Join(bad, "\n"), h2.logs)
	}
	t.Logf("after the kill and restart: %d adopted, %d untouched, 0 broken (PATCHes seen by the proxy: %d)",
		adopted, n-adopted, proxy.Count(patches))
	if adopted == 0 || adopted == n {
		t.Errorf("the kill came at no interesting moment: %d of %d adopted", adopted, n)
	}
}

// associatedCount is how many nodes Ironic has associated.
func associatedCount(t *testing.T, ironicURL string) int {
	t.Helper()
	var list struct {
		Nodes []struct{} `json:"nodes"`
	}
	ironicGet(t, ironicURL, "/v1/nodes?associated=true&fields=uuid", &list)
	return len(list.Nodes)
}

// TestLatePatchIsReleased: Ironic applies the association after the host
// gave up (504) and rolled back; the reconciler finds it through the
// tombstone and frees the node, which is listed again.
func TestLatePatchIsReleased(t *testing.T) {
	ironicSrv, nodes := startIronic(t, 1)
	proxy, err := holdproxy.Start(ironicSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	h := startHost(t, hostConfig(t, "", fmt.Sprintf(
		"[driver]\nname = ironic\ncall_timeout = 2\n[ironic]\nurl = %s\nauth_type = none\n[manage]\nreconcile_interval = 1\n", proxy.URL)))
	proxy.Delay(http.MethodPatch, `^/v1/nodes/`, 4*time.Second)
	began := time.Now()
	code, body := post(t, h.URL+"/v1/manageable_servers", `{"name": "late", "node_uuid": "`+nodes[0].UUID+`"}`)
	if code != http.StatusGatewayTimeout {
		t.Fatalf("adopt with a slow Ironic: %d %s; want 504", code, body)
	}
	proxy.Clear() // only the adoption's PATCH is slow; the release's is not
	// The late PATCH lands (4 s after it was sent), then the reconciler
	// frees the node again (its own PATCH is as slow).
	landed := false
	for {
		inst, _ := ironicNode(t, ironicSrv.URL, nodes[0].UUID)["instance_uuid"].(string)
		landed = landed || inst != ""
		if inst == "" && landed {
			break
		}
		if time.Since(began) > 40*time.Second {
			t.Fatalf("late PATCH seen: %v; node claimed by %q:\n%s", landed, inst, h.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := serversByNode(t, h.URL); len(got) != 0 {
		t.Errorf("servers after the rollback: %v", got)
	}
	code, body = status(t, h.URL+"/v1/manageable_servers")
	if code != http.StatusOK || !strings.Contains(body, nodes[0].UUID) {
		t.Errorf("node not listed again: %d %s", code, body)
	}
	if !strings.Contains(h.logs.String(), "released a node a late request had associated") {
		t.Errorf("the reconciler did not say it released the late claim:\n%s", h.logs)
	}
}

// TestReplicaRepairsAfterLease: two replicas share PostgreSQL; one is
// killed mid-adoption (Ironic acted); the other completes the adoption
// once the dead replica's lease has expired.
func TestReplicaRepairsAfterLease(t *testing.T) {
	ironicSrv, nodes := startIronic(t, 1)
	proxy, err := holdproxy.Start(ironicSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn := createDatabase(t)
	named := func(conf, name string) string {
		return strings.Replace(conf, "[DEFAULT]\n", "[DEFAULT]\nhost = "+name+"\n", 1)
	}
	extra := "[manage]\nreconcile_interval = 1\nintent_lease = 3\n"
	a := ironicHostConfig(t, conn, proxy.URL, extra)
	dbSync(t, a)
	ha := startHost(t, named(a, "replica-a"))
	hb := startHost(t, named(ironicHostConfig(t, conn, ironicSrv.URL, extra), "replica-b"))

	rule := proxy.Hold(http.MethodPatch, `^/v1/nodes/`, holdproxy.AfterForward)
	killMidStep(t, ha, proxy, rule, nodes[0].UUID)
	killed := time.Now()

	for end := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		bad, adopted := broken(t, hb.URL, ironicSrv.URL, nodes)
		if len(bad) == 0 && adopted == 1 {
			t.Logf("replica-b completed the adoption %s after replica-a died", time.Since(killed).Round(100*time.Millisecond))
			break
		}
		if time.Now().After(end) {
			t.Fatalf("replica-b did not repair: %v\n%s", bad, hb.logs)
		}
	}
}
