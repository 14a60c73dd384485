package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/testenv/holdproxy"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// handoffRollbacks: until the commit is recorded, any failure undoes
// what the handoff did in B and unholds the node in A (DESIGN, "The
// handoff"). Each case hands one node over through the API and breaks it
// one way; then the node is exactly as it was in A — maintenance off,
// every field of the node, its ports and portgroups as before — and
// nothing of it is in B (no node, no port or portgroup with its MACs, no
// Neutron port), its migration rolled back naming why, A's log showing no
// provision state and no power action for it, B's only an enrollment's
// states:
//
//   - a MAC B has on another node: refused before anything changes (the
//     target's checks), dry run or not;
//   - a MAC B gets on another node after those checks, while the node is
//     being held (B's port create refuses it);
//   - a BMC B cannot reach (redfish at a closed port: manage fails);
//   - B's Ironic stopped once the node is held in A: the undo waits for B
//     (the node stays held in A meanwhile: in one cloud, never none), and
//     finishes once B is back;
//   - A's Ironic stopped after the hold and the migration then cancelled
//     (a failure before the commit while A is away): B's side is undone
//     at once, the unhold waits for A and is done once A is back;
//   - B's Neutron answering a port create after the host gave up on it
//     (its timeout): the port it made is deleted too;
//   - a cancel (DELETE /v1/migrations/{uuid}) while B verifies the BMC;
//   - a secret missing (a masked driver_info field without its value):
//     refused before anything changes, dry run or not;
//   - a node associated with an instance in A: refused before anything
//     changes, dry run or not.
//
// And the other side of the rule: A stopped after the enroll, when the
// release is the next step — the commit is recorded as the release
// begins, so the handoff only goes forward (DELETE is a 409) and finishes
// once A is back: released from A, adopted in B. A secret given goes to B
// (masked there as in A).
func handoffRollbacks(t *testing.T, e *handoffEnv) {
	nodes := e.sourceNodes(t, 9)
	associated, err := e.A.Fixture().EnrollNode(t.Context(), uuid.NewString(), ironic.KindAssociated, "")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := nodes[1]
	redfishInfo := map[string]any{"redfish_address": "http://" + closedLoopback(t), "redfish_system_id": "/redfish/v1/Systems/1",
		"redfish_username": "admin", "redfish_password": "Redfish-s3cret"}
	toRedfish(t, e.A, unreachable.UUID, redfishInfo)
	withSecret := nodes[6]
	patch := []map[string]any{{"op": "add", "path": "/driver_info/fake_password", "value": "Fake-s3cret"}}
	if code := ironicDo(t, http.MethodPatch, e.A.URL, "/v1/nodes/"+withSecret.UUID, patch, nil); code != http.StatusOK {
		t.Fatalf("giving node %s a secret: %d", withSecret.UUID, code)
	}
	proxyA, err := holdproxy.Start(e.A.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxyA.Close)
	proxyB, err := holdproxy.Start(e.B.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxyB.Close)
	h := startHandoffHost(t, e.hostConfig(t, "", handoffURLs{a: proxyA.URL, b: proxyB.URL}, ""))
	hold := func(p *holdproxy.Proxy, method, pattern string, nth int, phase holdproxy.Phase) *holdproxy.Rule {
		r := p.HoldNth(method, pattern, nth, phase)
		t.Cleanup(func() { r.Release(); p.Clear() })
		return r
	}

	type rollback struct {
		node ironic.Node
		// run breaks the handoff; it returns the migration, "" when the
		// request was refused. What it adds to B itself it adds to b,
		// what B held before.
		run func(t *testing.T, body map[string]any, b *targetInventory) string
		// why is what the migration's error or the refusal says.
		why string
	}
	cases := []struct {
		name string
		rollback
	}{
		{"a MAC B has on another node: refused", rollback{node: nodes[0], why: nodes[0].Ports[0].Address, run: func(t *testing.T, body map[string]any, b *targetInventory) string {
			b.addPort(e.portInB(t, nodes[0].Ports[0].Address), nodes[0].Ports[0].Address)
			refused(t, h.URL, body, http.StatusConflict, nodes[0].Ports[0].Address)
			return ""
		}}},
		{"a MAC B gets on another node while the node is held", rollback{node: nodes[7], why: nodes[7].Ports[2].Address, run: func(t *testing.T, body map[string]any, b *targetInventory) string {
			rule := hold(proxyA, http.MethodPut, `^/v1/nodes/`+nodes[7].UUID+`/maintenance$`, 0, holdproxy.AfterForward)
			id := startMigration(t, h.URL, body).UUID
			waitClosed(t, rule.Reached, time.Minute, "the hold never reached A")
			b.addPort(e.portInB(t, nodes[7].Ports[2].Address), nodes[7].Ports[2].Address)
			rule.Release()
			return id
		}}},
		{"a BMC B cannot reach", rollback{node: unreachable, why: "could not manage", run: func(t *testing.T, body map[string]any, _ *targetInventory) string {
			body["secrets"] = map[string]any{"redfish_password": redfishInfo["redfish_password"]}
			return startMigration(t, h.URL, body).UUID
		}}},
		{"B down after the hold", rollback{node: nodes[2], run: func(t *testing.T, body map[string]any, _ *targetInventory) string {
			rule := hold(proxyA, http.MethodPut, `^/v1/nodes/`+nodes[2].UUID+`/maintenance$`, 0, holdproxy.AfterForward)
			id := startMigration(t, h.URL, body).UUID
			waitClosed(t, rule.Reached, time.Minute, "the hold never reached A")
			restart := outage(t, e.B)
			rule.Release()
			// The undo cannot reach B: the node stays held in A meanwhile.
			stillHeld(t, e, h.URL, id, nodes[2].UUID, 5*time.Second)
			restart()
			return id
		}}},
		{"A down before the commit, then a cancel", rollback{node: nodes[3], why: "cancel", run: func(t *testing.T, body map[string]any, _ *targetInventory) string {
			rule := hold(proxyB, http.MethodPut, `^/v1/nodes/`+nodes[3].UUID+`/states/provision$`, 1, holdproxy.BeforeForward)
			id := startMigration(t, h.URL, body).UUID
			waitClosed(t, rule.Reached, time.Minute, "the manage never reached B")
			restart := outage(t, e.A)
			if code, text := apiDo(t, http.MethodDelete, h.URL+"/v1/migrations/"+id, nil); code != http.StatusAccepted {
				t.Errorf("DELETE the migration before its commit: %d %s, want 202", code, text)
			}
			rule.Release()
			// B's side is undone; the unhold waits for A.
			eventually(t, 2*time.Minute, func() string {
				if rec := nodeRecord(t, e.B.URL, nodes[3].UUID); rec != nil {
					return fmt.Sprintf("B still has node %s (%v)", nodes[3].UUID, rec["provision_state"])
				}
				return ""
			})
			stillRunning(t, h.URL, id, 3*time.Second)
			restart()
			return id
		}}},
		{"B's Neutron answers a port create too late", rollback{node: nodes[8], why: "neutron", run: func(t *testing.T, body map[string]any, _ *targetInventory) string {
			// A host of its own, which gives Neutron 3 s; the port
			// create is held past that, then Neutron makes the port.
			proxyN, err := holdproxy.Start(e.Neutron.URL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(proxyN.Close)
			rule := hold(proxyN, http.MethodPost, `/ports$`, 1, holdproxy.AfterForward)
			impatient := startHost(t, e.hostConfig(t, "", handoffURLs{neutron: proxyN.URL, neutronTimeout: 3}, ""))
			id := startMigration(t, impatient.URL, body).UUID
			waitClosed(t, rule.Reached, time.Minute, "the port create never reached Neutron")
			m := waitMigration(t, impatient.URL, id, 3*time.Minute)
			rule.Release()
			impatient.stop(t)
			if m.Status != "rolled_back" || !strings.Contains(strings.ToLower(deref(m.Error)), "neutron") {
				t.Errorf("migration %s: %s (%q), want rolled_back naming Neutron: %s", id, m.Status, deref(m.Error), m.stepsString())
			}
			return "" // checked here: it is the other host's
		}}},
		{"a cancel while B verifies the BMC", rollback{node: nodes[4], why: "cancel", run: func(t *testing.T, body map[string]any, _ *targetInventory) string {
			rule := hold(proxyB, http.MethodPut, `^/v1/nodes/`+nodes[4].UUID+`/states/provision$`, 1, holdproxy.BeforeForward)
			id := startMigration(t, h.URL, body).UUID
			waitClosed(t, rule.Reached, time.Minute, "the manage never reached B")
			if code, text := apiDo(t, http.MethodDelete, h.URL+"/v1/migrations/"+id, nil); code != http.StatusAccepted {
				t.Errorf("DELETE the migration: %d %s, want 202", code, text)
			}
			rule.Release()
			return id
		}}},
		{"a secret missing", rollback{node: withSecret, why: "fake_password", run: func(t *testing.T, body map[string]any, _ *targetInventory) string {
			refused(t, h.URL, body, http.StatusBadRequest, "fake_password")
			return ""
		}}},
		{"associated with an instance in A", rollback{node: associated, why: "delete or unmanage the instance in the source cloud first",
			run: func(t *testing.T, body map[string]any, _ *targetInventory) string {
				refused(t, h.URL, body, http.StatusConflict, associated.InstanceUUID)
				return ""
			}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			node := tc.node.UUID
			before, mark, targetBefore := nodeRecord(t, e.A.URL, node), markLog(t, e.A, node), e.targetInventory(t)
			migrations := migrationCount(t, h.URL)
			id := tc.run(t, e.handoffRequest(tc.node), &targetBefore)
			if id == "" {
				if got := migrationCount(t, h.URL); got != migrations {
					t.Errorf("a refused request left %d migrations, want %d", got, migrations)
				}
			} else {
				m := waitMigration(t, h.URL, id, 3*time.Minute)
				if m.Status != "rolled_back" || !strings.Contains(strings.ToLower(deref(m.Error)), strings.ToLower(tc.why)) {
					t.Errorf("migration %s: %s (%q), want rolled_back naming %q: %s", id, m.Status, deref(m.Error), tc.why, m.stepsString())
				}
			}
			if wrong := e.backInA(t, node, before, targetBefore); wrong != "" {
				t.Error(wrong)
			}
			if got := e.targetInventory(t); id == "" && !slices.Equal(got.Nodes, targetBefore.Nodes) {
				t.Errorf("B's nodes changed: %v, were %v", got.Nodes, targetBefore.Nodes)
			}
			checkHandoffLogs(t, e, node, mark, false)
		})
	}

	t.Run("A down at the commit: only forward", func(t *testing.T) {
		n := nodes[5]
		mark := markLog(t, e.A, n.UUID)
		// The protection is B's last request of the enroll; the release
		// is the next step.
		rule := hold(proxyB, http.MethodPatch, `^/v1/nodes/`+n.UUID+`$`, 1, holdproxy.BeforeForward)
		id := startMigration(t, h.URL, e.handoffRequest(n)).UUID
		waitClosed(t, rule.Reached, 2*time.Minute, "the protection never reached B")
		restart := outage(t, e.A)
		rule.Release()
		eventually(t, time.Minute, func() string {
			m := getMigration(t, h.URL, id)
			if !m.hasStep("release_source") {
				return "the release is not recorded: " + m.stepsString()
			}
			return ""
		})
		if code, text := apiDo(t, http.MethodDelete, h.URL+"/v1/migrations/"+id, nil); code != http.StatusConflict {
			t.Errorf("DELETE a migration whose commit is recorded: %d %s, want 409", code, text)
		}
		stillRunning(t, h.URL, id, 3*time.Second)
		rec := nodeRecord(t, e.B.URL, n.UUID)
		if rec == nil || rec["provision_state"] != "active" || rec["protected"] != true || rec["instance_uuid"] != nil {
			t.Errorf("while A is down, B's node is %v; want active, protected, not adopted yet", rec)
		}
		restart()
		if m := waitMigration(t, h.URL, id, 3*time.Minute); m.Status != "done" {
			t.Errorf("migration %s: %s (%q), want done: %s", id, m.Status, deref(m.Error), m.stepsString())
		}
		// Done means adopted: the server active, B's node associated.
		if _, wrong := e.adoptedInB(t, h.URL, n.UUID); wrong != "" {
			t.Errorf("migration %s is done, but: %s", id, wrong)
			late := settle(time.Minute, func() string { _, wrong := e.adoptedInB(t, h.URL, n.UUID); return wrong })
			t.Logf("a minute later: %s", orText(late, "adopted"))
		}
		checkHandoffLogs(t, e, n.UUID, mark, true)
	})

	t.Run("the secret given: handed over, masked in B", func(t *testing.T) {
		mark := markLog(t, e.A, withSecret.UUID)
		body := e.handoffRequest(withSecret)
		body["secrets"] = map[string]any{"fake_password": "Fake-s3cret"}
		m := waitMigration(t, h.URL, startMigration(t, h.URL, body).UUID, 3*time.Minute)
		if m.Status != "done" {
			t.Fatalf("migration: %s (%q): %s", m.Status, deref(m.Error), m.stepsString())
		}
		if _, wrong := e.adoptedInB(t, h.URL, withSecret.UUID); wrong != "" {
			t.Error(wrong)
		}
		info, _ := nodeRecord(t, e.B.URL, withSecret.UUID)["driver_info"].(map[string]any)
		if info["fake_password"] != "******" {
			t.Errorf("B's driver_info %v: want fake_password set (masked)", info)
		}
		checkHandoffLogs(t, e, withSecret.UUID, mark, true)
		if strings.Contains(h.logs.String(), "Fake-s3cret") || strings.Contains(h.logs.String(), "Redfish-s3cret") {
			t.Error("a secret is in the host's log")
		}
	})
}

// closedLoopback is a loopback address nothing listens on.
func closedLoopback(t *testing.T) string {
	t.Helper()
	port, err := proctest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// toRedfish makes an active fake-hardware node of s a redfish one with
// info as its driver_info, as an operator changing its hardware type
// would: in maintenance (Ironic changes an active node's interfaces only
// then), the driver and its default interfaces, then out of maintenance.
func toRedfish(t *testing.T, s *ironic.Server, node string, info map[string]any) {
	t.Helper()
	for _, step := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPut, "/v1/nodes/" + node + "/maintenance", map[string]string{"reason": "changing its hardware type"}},
		{http.MethodPatch, "/v1/nodes/" + node + "?reset_interfaces=true", []map[string]any{
			{"op": "replace", "path": "/driver", "value": "redfish"}, {"op": "replace", "path": "/driver_info", "value": info}}},
		{http.MethodDelete, "/v1/nodes/" + node + "/maintenance", nil},
	} {
		if code := ironicDo(t, step.method, s.URL, step.path, step.body, nil); code >= 300 {
			t.Fatalf("%s %s: %d", step.method, step.path, code)
		}
	}
}

// refused posts the handoff, as a dry run and for real, and wants both
// refused with code, naming want.
func refused(t *testing.T, hostURL string, body map[string]any, code int, want string) {
	t.Helper()
	for _, url := range []string{hostURL + "/v1/migrations?dry_run=true", hostURL + "/v1/migrations"} {
		got, text := apiDo(t, http.MethodPost, url, body)
		if got != code || !strings.Contains(text, want) {
			t.Errorf("POST %s: %d %s; want %d naming %q", url, got, text, code, want)
		}
	}
}

// migrationCount is how many migrations the host lists.
func migrationCount(t *testing.T, hostURL string) int {
	t.Helper()
	code, text := apiDo(t, http.MethodGet, hostURL+"/v1/migrations", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /v1/migrations: %d %s", code, text)
	}
	var list struct {
		Migrations []json.RawMessage `json:"migrations"`
	}
	if err := json.Unmarshal([]byte(text), &list); err != nil {
		t.Fatal(err)
	}
	return len(list.Migrations)
}

// stillRunning checks, over d, that the migration has not ended.
func stillRunning(t *testing.T, hostURL, id string, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		if m := getMigration(t, hostURL, id); migrationEnded(m.Status) {
			t.Fatalf("migration %s ended %s (%q) while a cloud it needs is down: %s", id, m.Status, deref(m.Error), m.stepsString())
		}
	}
}

// stillHeld checks, over d, that the migration has not ended and that the
// node stays in A, in maintenance with its migration's reason.
func stillHeld(t *testing.T, e *handoffEnv, hostURL, id, node string, d time.Duration) {
	t.Helper()
	stillRunning(t, hostURL, id, d)
	rec := nodeRecord(t, e.A.URL, node)
	if rec == nil || rec["maintenance"] != true || rec["maintenance_reason"] != "mogan-manage migration "+id {
		t.Errorf("while B is down, node %s in A is %v; want held by migration %s", node, rec, id)
	}
}

// orText is s, or def when s is empty.
func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
