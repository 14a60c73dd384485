package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/cloud"
	"github.com/mogan-manage/mogan-manage/testenv/holdproxy"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// The fencing of the intent log, as the probe of issue 15 broke it: two
// mogan-api replicas on one PostgreSQL, real Ironic and Neutron, a proxy
// holding one request of a replica while it is paused past its lease or
// its database connections are cut. A replica that lost an adoption must
// touch nothing more and say so (409 "taken over by another replica");
// one whose connection dropped answers 503 with Retry-After; and every node
// ends adopted or free, each Neutron port bound to it or as it was.

// The replicas' short cycle: a lease lost in seconds, a reconciler pass
// every second.
const fencedManage = "[manage]\nreconcile_interval = 1\nintent_lease = 3\n"

// withHost names the replica: [DEFAULT] host = name.
func withHost(conf, name string) string {
	return strings.Replace(conf, "[DEFAULT]\n", "[DEFAULT]\nhost = "+name+"\n", 1)
}

// replicaConfig is a replica named name on the Ironic driver at ironicURL
// (a proxy or the service) with the driver's call_timeout; extra is
// appended (services, [manage]).
func replicaConfig(t *testing.T, db, name, ironicURL string, callTimeout int, extra string) string {
	t.Helper()
	return withHost(hostConfig(t, db, fmt.Sprintf("[driver]\nname = ironic\ncall_timeout = %d\n[ironic]\nurl = %s\nauth_type = none\n",
		callTimeout, ironicURL)+extra), name)
}

// startNetworkCloud is startCloud without Glance, which plays no part in
// fencing and costs 10 to 20 s of a 2-core machine at start: real Ironic
// and Neutron, n adoptable nodes whose VIFs are Neutron ports.
func startNetworkCloud(t *testing.T, n int) (*cloud.Cloud, []ironic.Node) {
	t.Helper()
	c, err := cloud.Start(t.Context(), cloud.Options{Dir: t.TempDir(), Neutron: true, DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	nodes, err := c.Enroll(t.Context(), ironic.Mix{Adoptable: n})
	if err != nil {
		t.Fatal(err)
	}
	return c, nodes
}

// cloudSections configure c's Glance (when it runs) and a Neutron at
// neutronURL (a proxy or c's).
func cloudSections(c *cloud.Cloud, neutronURL string) string {
	out := fmt.Sprintf("[neutron]\nurl = %s\nauth_type = none\n", neutronURL)
	if c.Glance != nil {
		out += fmt.Sprintf("[glance]\nurl = %s\nauth_type = none\n", c.Glance.URL)
	}
	return out
}

// pause SIGSTOPs the host alone, as `kill -STOP <pid>` does: its plugin
// runs on, and answers (or gives up on) the call in flight. The test's end
// resumes it.
func (h *host) pause(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP mogan-api: %v", err)
	}
	t.Cleanup(func() { _ = h.cmd.Process.Signal(syscall.SIGCONT) })
}

// resume SIGCONTs a paused host.
func (h *host) resume(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("SIGCONT mogan-api: %v", err)
	}
}

// answer is what a client got.
type answer struct {
	code   int
	header http.Header
	body   string
}

// adoptLater posts the adoption of node in the background; its answer
// comes on the channel (code 0 when the request itself failed).
func adoptLater(t *testing.T, hostURL, node string) <-chan answer {
	out := make(chan answer, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 3*time.Minute)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, hostURL+"/v1/manageable_servers",
			strings.NewReader(`{"name": "fenced", "node_uuid": "`+node+`"}`))
		if err != nil {
			out <- answer{body: err.Error()}
			return
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			out <- answer{body: err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		out <- answer{code: resp.StatusCode, header: resp.Header, body: string(b)}
	}()
	return out
}

// await waits for a background client's answer.
func await(t *testing.T, ch <-chan answer, who string) answer {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s got no answer in 2 minutes", who)
		return answer{}
	}
}

// waitClosed waits for ch (a proxy rule's signal) or fails with what.
func waitClosed(t *testing.T, ch <-chan struct{}, limit time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(limit):
		t.Fatalf("%s (waited %s)", what, limit)
	}
}

// eventually polls check until it reports nothing wrong (""), or fails
// the test with its last complaint once limit has passed.
func eventually(t *testing.T, limit time.Duration, check func() string) {
	t.Helper()
	if wrong := settle(limit, check); wrong != "" {
		t.Fatalf("after %s: %s", limit, wrong)
	}
}

// settle polls check until it reports nothing wrong (""), for at most
// limit, and returns its last complaint.
func settle(limit time.Duration, check func() string) string {
	deadline := time.Now().Add(limit)
	for {
		wrong := check()
		if wrong == "" || time.Now().After(deadline) {
			return wrong
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stays checks that a good state stays good over two more reconciler
// passes (reconcile_interval = 1): a repair that undoes it is caught.
func stays(t *testing.T, check func() string) {
	t.Helper()
	time.Sleep(2500 * time.Millisecond)
	if wrong := check(); wrong != "" {
		t.Errorf("two reconciler passes later: %s", wrong)
	}
}

// serverUUID is the uuid of an adoption's 201 body.
func serverUUID(t *testing.T, body string) string {
	t.Helper()
	var srv struct {
		UUID string `json:"uuid"`
	}
	if err := json.Unmarshal([]byte(body), &srv); err != nil || srv.UUID == "" {
		t.Fatalf("no server uuid in %q: %v", body, err)
	}
	return srv.UUID
}

// boundTo is every port bound to node as a baremetal port.
func boundTo(ports []string, node string) map[string]string {
	out := map[string]string{}
	for _, p := range ports {
		out[p] = node + "/baremetal"
	}
	return out
}

// adoptedState says what is wrong with node being adopted as server
// srv through hostURL: the server active, Ironic's instance_uuid srv, each
// of ports bound to the node; "" when nothing is.
func adoptedState(t *testing.T, c *cloud.Cloud, hostURL, node, srv string, ports []string) string {
	t.Helper()
	var wrong []string
	if got, ok := serversByNode(t, hostURL)[node]; !ok || got.UUID != srv || got.Status != "active" {
		wrong = append(wrong, fmt.Sprintf("the server of node %s is %+v (listed: %v), want %s active", node, got, ok, srv))
	}
	if inst, err := c.InstanceUUID(t.Context(), node); err != nil || inst != srv {
		wrong = append(wrong, fmt.Sprintf("Ironic's instance_uuid is %q (%v), want %s", inst, err, srv))
	}
	if got, want := bindings(t, c, ports), boundTo(ports, node); fmt.Sprint(got) != fmt.Sprint(want) {
		wrong = append(wrong, fmt.Sprintf("Neutron bindings %v, want %v", got, want))
	}
	return strings.Join(wrong, "; ")
}

// freeState says what is wrong with node being free: no server, no
// instance_uuid, each port at its binding before (as bindings reads them).
func freeState(t *testing.T, c *cloud.Cloud, hostURL, node string, before map[string]string) string {
	t.Helper()
	var wrong []string
	if got, ok := serversByNode(t, hostURL)[node]; ok {
		wrong = append(wrong, fmt.Sprintf("node %s still has server %+v", node, got))
	}
	if inst, err := c.InstanceUUID(t.Context(), node); err != nil || inst != "" {
		wrong = append(wrong, fmt.Sprintf("Ironic's instance_uuid is %q (%v), want none", inst, err))
	}
	ports := make([]string, 0, len(before))
	for p := range before {
		ports = append(ports, p)
	}
	if got := bindings(t, c, ports); fmt.Sprint(got) != fmt.Sprint(before) {
		wrong = append(wrong, fmt.Sprintf("Neutron bindings %v, want them as before the adoption: %v", got, before))
	}
	return strings.Join(wrong, "; ")
}

// takenOver checks the answer of a replica whose adoption another replica
// took over while it was paused.
func takenOver(t *testing.T, a answer) {
	t.Helper()
	if a.code != http.StatusConflict || !strings.Contains(a.body, "taken over by another replica") {
		t.Errorf(`the paused replica's client got %d %s; want 409 "taken over by another replica"`, a.code, a.body)
	}
}

// TestFencingPausedReplicaNeverUndoesAnother (issue 15, findings 1 and
// 5a): r1 binds node X's ports and its association (the PATCH) is held;
// r1 is paused past its lease; r2 takes the adoption over and rolls it
// back; r1's plugin gives up on the PATCH, which then lands late and r2's
// reconciler releases it; r2 adopts X itself. When r1 resumes, its
// adoption fails, and it must undo nothing of r2's: its client gets 409
// "taken over by another replica", its log does not promise a retry of
// an intent that is r2's, and r2's server stays adopted with every port
// bound.
func TestFencingPausedReplicaNeverUndoesAnother(t *testing.T) {
	c, nodes := startNetworkCloud(t, 1)
	x := nodes[0]
	ports := vifsOf(x)
	ironicProxy, err := holdproxy.Start(c.Ironic.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ironicProxy.Close)
	db := createDatabase(t)
	// call_timeout 8: r1's plugin gives up on the held PATCH while r1 is
	// paused (the deadline travels with the call), so r1's Manage fails
	// when it resumes, as the probe's did on its deadline.
	r1conf := replicaConfig(t, db, "r1", ironicProxy.URL, 8, cloudSections(c, c.Neutron.URL)+fencedManage)
	dbSync(t, r1conf)
	r1 := startHost(t, r1conf)
	r2 := startHost(t, replicaConfig(t, db, "r2", c.Ironic.URL, 30, cloudSections(c, c.Neutron.URL)+fencedManage))
	before := bindings(t, c, ports)

	patch := ironicProxy.Hold(http.MethodPatch, `^/v1/nodes/`, holdproxy.BeforeForward)
	r1answer := adoptLater(t, r1.URL, x.UUID)
	waitClosed(t, patch.Reached, time.Minute, "r1's association (PATCH) never reached the proxy")
	r1.pause(t)
	s1, ok := serversByNode(t, r2.URL)[x.UUID]
	if !ok {
		t.Fatalf("r1's adoption in progress is not listed (building) by r2")
	}
	if got, want := bindings(t, c, ports), boundTo(ports, x.UUID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("r1 did not bind X's ports before its PATCH: %v", got)
	}

	// r2 takes the adoption over once r1's lease has expired, and rolls
	// it back.
	eventually(t, 30*time.Second, func() string {
		if wrong := freeState(t, c, r2.URL, x.UUID, before); wrong != "" {
			return "r2 has not rolled back paused r1's adoption: " + wrong
		}
		return ""
	})
	// r1's plugin gives up on the PATCH; released, it lands late: X
	// associated with r1's rolled-back server, which r2's reconciler
	// releases.
	waitClosed(t, patch.Abandoned, 30*time.Second, "r1's plugin never gave up on the held PATCH (call_timeout 8)")
	patch.Release()
	waitClosed(t, patch.Forwarded, 30*time.Second, "the held PATCH never reached Ironic")
	eventually(t, 30*time.Second, func() string {
		if inst, err := c.InstanceUUID(t.Context(), x.UUID); err != nil || inst != "" {
			return fmt.Sprintf("r2's reconciler has not released the late association of X with r1's server %s: instance_uuid %q (%v)", s1.UUID, inst, err)
		}
		return ""
	})

	// r2 adopts X.
	code, body := post(t, r2.URL+"/v1/manageable_servers", `{"name": "r2s", "node_uuid": "`+x.UUID+`"}`)
	if code != http.StatusCreated {
		t.Fatalf("r2's adoption of X: %d %s", code, body)
	}
	s2 := serverUUID(t, body)
	if wrong := adoptedState(t, c, r2.URL, x.UUID, s2, ports); wrong != "" {
		t.Fatalf("right after r2's adoption: %s", wrong)
	}

	// r1 resumes: its adoption is no longer its own.
	r1.resume(t)
	takenOver(t, await(t, r1answer, "r1's client"))
	if hasLineWithAll(r1.logs.String(), regexp.QuoteMeta("the reconciler will retry"), s1.UUID) {
		t.Errorf(`r1's log says "the reconciler will retry" of server %s's intent, which r2 owns (r1's log is below)`, s1.UUID)
	}
	adopted := func() string {
		if wrong := adoptedState(t, c, r2.URL, x.UUID, s2, ports); wrong != "" {
			return "r2's adoption after paused r1 resumed: " + wrong
		}
		return ""
	}
	eventually(t, 20*time.Second, adopted)
	stays(t, adopted)
}

// TestFencingLateBindAfterLeaseLost (issue 15, finding 1's second case): r1
// begins binding X's first port, whose PUT is held; r1 is paused past its
// lease and r2 rolls the adoption back; the PUT then lands, binding the
// port to X behind r2's back, and r1 resumes. The port must end as it
// was before the adoption, with no server, once the reconciler has run;
// r1's client is told its adoption was taken over.
func TestFencingLateBindAfterLeaseLost(t *testing.T) {
	c, nodes := startNetworkCloud(t, 1)
	x := nodes[0]
	neutronProxy, err := holdproxy.Start(c.Neutron.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(neutronProxy.Close)
	db := createDatabase(t)
	r1conf := replicaConfig(t, db, "r1", c.Ironic.URL, 30, cloudSections(c, neutronProxy.URL)+fencedManage)
	dbSync(t, r1conf)
	r1 := startHost(t, r1conf)
	r2 := startHost(t, replicaConfig(t, db, "r2", c.Ironic.URL, 30, cloudSections(c, c.Neutron.URL)+fencedManage))
	before := bindings(t, c, vifsOf(x))

	put := neutronProxy.HoldNth(http.MethodPut, `^/v2.0/ports/[^/]+$`, 1, holdproxy.BeforeForward)
	r1answer := adoptLater(t, r1.URL, x.UUID)
	waitClosed(t, put.Reached, time.Minute, "r1's first binding (PUT) never reached the proxy")
	r1.pause(t)
	eventually(t, 30*time.Second, func() string {
		if _, ok := serversByNode(t, r2.URL)[x.UUID]; ok {
			return "r2 has not rolled back paused r1's adoption: its server is still listed"
		}
		return ""
	})
	put.Release()
	waitClosed(t, put.Forwarded, 30*time.Second, "r1's held PUT never reached Neutron")
	r1.resume(t)
	takenOver(t, await(t, r1answer, "r1's client"))

	free := func() string {
		if wrong := freeState(t, c, r2.URL, x.UUID, before); wrong != "" {
			return "after r1's late binding and the reconciler: " + wrong
		}
		return ""
	}
	eventually(t, 20*time.Second, free)
	stays(t, free)
}

// TestConnectionLostAnswers503 (issue 15, finding 5b): r1's PostgreSQL
// connections are terminated while its adoption waits on Ironic (the
// PATCH held), and the database takes no new connection until r1 has
// answered, so that what the adoption does next surely meets the lost
// connection (a pool may otherwise reconnect at once, and the adoption
// rightly succeed). The client gets 503 with Retry-After, never a 500; once
// the database is back, the node ends adopted or free. r1 is the only
// process on its database, so every backend of it but ours is r1's.
func TestConnectionLostAnswers503(t *testing.T) {
	ironicSrv, nodes := startIronic(t, 1)
	proxy, err := holdproxy.Start(ironicSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	db := createDatabase(t)
	conf := replicaConfig(t, db, "r1", proxy.URL, 30, "[manage]\nreconcile_interval = 1\nintent_lease = 9\n")
	dbSync(t, conf)
	r1 := startHost(t, conf)

	patch := proxy.Hold(http.MethodPatch, `^/v1/nodes/`, holdproxy.BeforeForward)
	r1answer := adoptLater(t, r1.URL, nodes[0].UUID)
	waitClosed(t, patch.Reached, time.Minute, "the association (PATCH) never reached the proxy")
	n := cutDatabase(t, db)
	if n == 0 {
		t.Fatalf("r1 has no PostgreSQL connection to terminate")
	}
	t.Logf("terminated %d PostgreSQL connections of r1", n)
	patch.Release()
	a := await(t, r1answer, "r1's client")
	restoreDatabase(t, db)
	if a.code != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" {
		t.Errorf("the adoption whose database connection was terminated answered %d (Retry-After %q) %s; want 503 with Retry-After",
			a.code, a.header.Get("Retry-After"), a.body)
	}
	eventually(t, 30*time.Second, func() string {
		if bad, _ := broken(t, r1.URL, ironicSrv.URL, nodes); len(bad) > 0 {
			return "stranded once the database was back: " + strings.Join(bad, "; ")
		}
		return ""
	})
}

// adminDB is a connection to the PostgreSQL server as its admin, closed
// at the test's end.
func adminDB(t *testing.T) *sql.DB {
	t.Helper()
	admin, err := sql.Open("pgx", postgresAdminURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	return admin
}

// databaseName is the name of the database of conn (a createDatabase URL).
func databaseName(t *testing.T, conn string) string {
	t.Helper()
	u, err := url.Parse(conn)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

// cutDatabase makes the database of conn refuse new connections and
// terminates every connection to it but the admin's own; it returns how
// many it terminated. restoreDatabase (also run at the test's end) lets
// connections in again.
func cutDatabase(t *testing.T, conn string) int {
	t.Helper()
	name := databaseName(t, conn)
	admin := adminDB(t)
	if _, err := admin.ExecContext(t.Context(), "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatalf("closing %s to new connections: %v", name, err)
	}
	t.Cleanup(func() { restoreDatabase(t, conn) })
	var n int
	err := admin.QueryRowContext(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid()`, name).Scan(&n)
	if err != nil {
		t.Fatalf("terminating the connections to %s: %v", name, err)
	}
	return n
}

// restoreDatabase lets connections to the database of conn in again.
func restoreDatabase(t *testing.T, conn string) {
	t.Helper()
	name := databaseName(t, conn)
	admin, err := sql.Open("pgx", postgresAdminURL())
	if err == nil {
		_, err = admin.ExecContext(context.WithoutCancel(t.Context()), "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true")
		_ = admin.Close()
	}
	if err != nil {
		t.Errorf("opening %s to connections again: %v", name, err)
	}
}
