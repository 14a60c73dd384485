package e2e

import (
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/testenv/holdproxy"
)

// TestMigrateSecretsNeverLeak: the machines' password goes to Ironic, once,
// and nowhere else. A host at debug, on PostgreSQL, publishing its
// notifications to RabbitMQ, migrates machines through every path a
// secret could take — the CLI's dry run and run (one machine's BMC fails
// manage and it rolls back), the API's refusals (a secret the machine
// does not name, a missing one, an idempotency key reused with another
// body), retry and cancel refused, and a host SIGKILLed while the node is
// being created then restarted (the store dumped while it is down) — and
// the password is searched for in every table of the store (the intent
// log, the actions, the migrations, the tombstones), every notification
// on the broker, every log line of the host and its plugin, everything
// the CLI printed and every response body, errors included: no hit. It
// is in Ironic's database: the search was not in vain.
func TestMigrateSecretsNeverLeak(t *testing.T) {
	c, image := migStartCloud(t)
	db := createDatabase(t)
	exchange := "mogan-e2e-mig-" + uuid.NewString()[:8]
	deliveries := consumeNotifications(t, exchange)
	notify := fmt.Sprintf("[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:5672/\ncontrol_exchange = %s\n"+
		"[oslo_messaging_notifications]\ndriver = messagingv2\n", exchange)
	conf := func(ironicURL string) string {
		return withHost(migHostConfig(t, c, db, ironicURL, c.Neutron.URL, notify), "secrets-host")
	}
	dbSync(t, conf(c.Ironic.URL))
	var seen migTranscript
	var logs strings.Builder

	// The CLI: a dry run and a run with one failure, then the listing.
	h := migStartHost(t, conf(c.Ironic.URL))
	env := []string{"MOGAN_URL=" + h.URL}
	ms := migMachines("secret", 0xb0, 2, 1, image)
	bmc := redfishAt(migMachines("secret-bmc", 0xb1, 1, 1, image)[0], freePort(t))
	inv, secrets := migWriteInventory(t, "inventory.yaml", migYAML(append(ms, bmc), "provisioning"))
	args := []string{"migrate", "-i", inv, "--to", migBackend, "--adopt", "--secrets-file", secrets}
	seen.cli("migrate --dry-run", runMogan(t, env, append(args, "--dry-run", "-f", "json")...))
	run := runMogan(t, env, append(args, "-f", "json")...)
	seen.cli("migrate", run)
	if got := migOutcomes(migResults(t, run)); run.code != 1 || got["migrated"] != 2 || got["failed"] != 1 {
		t.Errorf("migrate: exit %d, %v; want 1, two migrated and one failed\n%s", run.code, got, run.stderr)
	}
	for _, a := range [][]string{{"migration", "list"}, {"migration", "list", "-f", "json"}} {
		seen.cli(strings.Join(a, " "), runMogan(t, env, a...))
	}
	var doneOne string
	for _, m := range migWait(t, h.URL, 2*time.Minute) {
		seen.cli("migration show", runMogan(t, env, "migration", "show", m.UUID, "-f", "json"))
		if m.Status == "done" {
			doneOne = m.UUID
		}
	}

	// The API's refusals and answers, each body recorded.
	extra := migMachines("secret-api", 0xb2, 3, 1, image)
	body := migBody(t, extra[0], "provisioning", true)
	tooMany := strings.Replace(body, `"secrets":{`, `"secrets":{"bmc_password":"`+migSecret+`",`, 1)
	missing := strings.Replace(body, `"secrets":{"ipmi_password":"`+migSecret+`"},`, "", 1)
	for _, b := range []string{tooMany, missing} {
		for _, q := range []string{"?dry_run=true", ""} {
			if code, _ := seen.request(t, http.MethodPost, h.URL+"/v1/migrations"+q, b); code != http.StatusBadRequest {
				t.Errorf("POST /v1/migrations%s with a wrong secret: %d; want 400", q, code)
			}
		}
	}
	seen.request(t, http.MethodPost, h.URL+"/v1/migrations?dry_run=true", body)
	keyed := strings.Replace(body, `"target":`, `"idempotency_key":"secret-key","target":`, 1)
	if code, _ := seen.request(t, http.MethodPost, h.URL+"/v1/migrations", keyed); code != http.StatusAccepted {
		t.Errorf("a keyed migration: %d; want 202", code)
	}
	otherBody := strings.Replace(keyed, extra[0].Name, extra[1].Name, 1)
	if code, _ := seen.request(t, http.MethodPost, h.URL+"/v1/migrations", otherBody); code != http.StatusConflict {
		t.Errorf("the key reused with another body: %d; want 409", code)
	}
	for _, r := range []struct{ method, path string }{
		{http.MethodPost, "/v1/migrations/" + doneOne + "/retry"}, {http.MethodDelete, "/v1/migrations/" + doneOne},
	} {
		if code, _ := seen.request(t, r.method, h.URL+r.path, ""); code != http.StatusConflict {
			t.Errorf("%s %s of a done migration: %d; want 409", r.method, r.path, code)
		}
	}
	migWait(t, h.URL, 2*time.Minute)
	h.stop(t)
	logs.WriteString(h.logs.String())

	// Killed while the node's port is created (the node, with its
	// driver_info, exists): the store as the dead host left it, then
	// the restart's repair.
	proxy, err := holdproxy.Start(c.Ironic.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	killed := migStartHost(t, conf(proxy.URL))
	rule := proxy.Hold(http.MethodPost, `^/v1/ports$`, holdproxy.AfterForward)
	if code, _ := seen.request(t, http.MethodPost, killed.URL+"/v1/migrations", migBody(t, extra[2], "provisioning", true)); code != http.StatusAccepted {
		t.Fatalf("the migration to kill: %d", code)
	}
	select {
	case <-rule.Reached:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the node's port was never created:\n%s", migTail(killed.logs.String(), 30))
	}
	killed.kill(t)
	proxy.Close()
	storeWhileDown := dumpPostgres(t, db)
	logs.WriteString(killed.logs.String())
	restarted := migStartHost(t, conf(c.Ironic.URL))
	all := migWait(t, restarted.URL, 2*time.Minute)
	seen.readEverything(t, restarted.URL)
	restarted.stop(t)
	logs.WriteString(restarted.logs.String())

	// The notifications the broker got.
	var notes strings.Builder
	events := map[string]int{}
	for quiet := false; !quiet; {
		select {
		case d := <-deliveries:
			notes.Write(d.Body)
			notes.WriteString("\n")
			event, _ := notificationOf(t, d.Body)
			events[event]++
		case <-time.After(3 * time.Second):
			quiet = true
		}
	}
	var hits []string
	for _, src := range []struct{ where, text string }{
		{"the store, while the killed host was down", storeWhileDown},
		{"the store", dumpPostgres(t, db)},
		{"the notifications", notes.String()},
		{"the logs of the host and its plugin", logs.String()},
		{"what the CLI printed and the API answered", seen.String()},
	} {
		hits = append(hits, secretHits(src.where, src.text)...)
	}
	if len(hits) > 0 {
		t.Errorf("the password leaked %d times:\n%s", len(hits), strings.Join(hits, "\n"))
	}

	// The search had something to search, and the password went where it
	// belongs.
	if events["migration.start"] < 4 || events["migration.end"] < 2 || events["migration.error"] < 1 {
		t.Errorf("notifications seen: %v; want migration.start, .end and .error", events)
	}
	for _, want := range []string{"intents", "migrations", "actions", `"ipmi_password"`} {
		if !strings.Contains(storeWhileDown+seen.String(), want) {
			t.Errorf("nothing searched holds %q", want)
		}
	}
	if n := migSecretInIronic(t, c.Ironic.DB); n < 3 {
		t.Errorf("Ironic's database holds the password in %d nodes' driver_info; want the migrated ones (at least 3)", n)
	}
	t.Logf("searched: the store (%d bytes, and %d while the killed host was down), %d notifications %v, %d bytes of logs, %d of CLI output and responses; %d migrations",
		len(dumpPostgres(t, db)), len(storeWhileDown), len(strings.Split(strings.TrimSpace(notes.String()), "\n")), events,
		logs.Len(), seen.Len(), len(all))
}

// migSecretInIronic counts the nodes whose driver_info holds the password
// in Ironic's own database (its API masks it).
func migSecretInIronic(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM nodes WHERE instr(driver_info, ?) > 0`, migSecret).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
