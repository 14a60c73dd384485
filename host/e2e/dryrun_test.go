package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mogan-manage/mogan-manage/testenv/holdproxy"
)

// TestDryRunChangesNothing is [8/8]'s bar for the dry run: real Ironic,
// Glance and Neutron behind recording proxies, the host's SQLite database
// and a RabbitMQ queue on the notifications exchange. For a success and
// for each refusal the dry run answers what the real call answers, and no
// PATCH/PUT/POST/DELETE reaches a service, no table gains or loses a row,
// and no notification carries its request id. A do-then-undo
// implementation fails it: its writes pass the proxies.
func TestDryRunChangesNothing(t *testing.T) {
	c, nodes := startCloud(t, 6)
	ctx := t.Context()
	plain, managed, inFlight, maintenance, badMAC, urlImage := nodes[0], nodes[1], nodes[2], nodes[3], nodes[4], nodes[5]
	if err := c.SetMaintenance(ctx, maintenance.UUID, true); err != nil {
		t.Fatal(err)
	}
	if err := c.SetNeutronMAC(ctx, vifsOf(badMAC)[0], "52:54:00:12:34:56"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetImageSource(ctx, urlImage.UUID, "http://images.example/disk.qcow2"); err != nil {
		t.Fatal(err)
	}
	proxies := map[string]*holdproxy.Proxy{}
	for name, target := range map[string]string{"ironic": c.Ironic.URL, "glance": c.Glance.URL, "neutron": c.Neutron.URL} {
		p, err := holdproxy.Start(target)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		proxies[name] = p
	}
	// writes are the requests that would change a service, by proxy.
	writes := func() string {
		var out []string
		for _, name := range []string{"ironic", "glance", "neutron"} {
			for _, r := range proxies[name].Requests() {
				if !strings.HasPrefix(r, http.MethodGet+" ") && !strings.HasPrefix(r, http.MethodHead+" ") {
					out = append(out, name+": "+r)
				}
			}
		}
		return strings.Join(out, "\n")
	}
	exchange := "mogan-e2e-dry-" + uuid.NewString()[:8]
	deliveries := consumeNotifications(t, exchange)
	dbPath := filepath.Join(t.TempDir(), "mogan.sqlite")
	h := startHost(t, hostConfig(t, "sqlite://"+dbPath, fmt.Sprintf(
		"[driver]\nname = ironic\ncall_timeout = 60\n[ironic]\nurl = %s\nauth_type = none\n"+
			"[glance]\nurl = %s\nauth_type = none\n[neutron]\nurl = %s\nauth_type = none\n[quota]\nmetadata_items = 2\n"+
			"[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:5672/\ncontrol_exchange = %s\n"+
			"[oslo_messaging_notifications]\ndriver = messagingv2\n",
		proxies["ironic"].URL, proxies["glance"].URL, proxies["neutron"].URL, exchange)))

	body := func(node string) string {
		return `{"name": "dry", "metadata": {"rack": "r1"}, "node_uuid": "` + node + `"}`
	}
	var dryRequests, realRequests []string

	// The real adoption of managed before the cases, and of inFlight held
	// at Ironic's PATCH (its claim is in progress) during them.
	if code, _, body := postWithID(t, h.URL+"/v1/manageable_servers", body(managed.UUID)); code != http.StatusCreated {
		t.Fatalf("adopt: %d %s", code, body)
	}
	hold := proxies["ironic"].Hold(http.MethodPatch, `^/v1/nodes/`+inFlight.UUID, holdproxy.BeforeForward)
	var held sync.WaitGroup
	held.Add(1)
	go func() {
		defer held.Done()
		code, _, b := postWithID(t, h.URL+"/v1/manageable_servers", body(inFlight.UUID))
		if code != http.StatusCreated {
			t.Errorf("the held adoption: %d %s", code, b)
		}
	}()
	select {
	case <-hold.Reached:
	case <-time.After(60 * time.Second):
		t.Fatalf("the held adoption never reached Ironic's PATCH:\n%s", h.logs)
	}

	cases := []struct {
		name   string
		body   string
		status int
		// closeGlance makes Glance unreachable first.
		closeGlance bool
		// real makes the real call after the dry run and compares.
		real bool
	}{
		{name: "would adopt", body: body(plain.UUID), status: 200, real: true},
		{name: "would adopt, the image a URL", body: body(urlImage.UUID), status: 200},
		{name: "already managed", body: body(managed.UUID), status: 409, real: true},
		{name: "claimed by an adoption in progress", body: body(inFlight.UUID), status: 409, real: true},
		{name: "driver refuses: maintenance", body: body(maintenance.UUID), status: 409, real: true},
		{name: "MAC mismatch", body: body(badMAC.UUID), status: 409, real: true},
		{name: "unknown node", body: body(uuid.NewString()), status: 404, real: true},
		{name: "schema", body: `{"name": "x", "node_uuid": "` + plain.UUID + `", "flavor_uuid": "f"}`, status: 400, real: true},
		{name: "quota", body: `{"name": "x", "metadata": {"a": "1", "b": "2", "c": "3"}, "node_uuid": "` + urlImage.UUID + `"}`, status: 403, real: true},
		{name: "Glance unreachable", body: body(badMAC.UUID), closeGlance: true, status: 503, real: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.closeGlance {
				proxies["glance"].Close()
			}
			rowsBefore, writesBefore := tableCounts(t, dbPath), writes()
			code, id, got := postWithID(t, h.URL+"/v1/manageable_servers?dry_run=true", tc.body)
			dryRequests = append(dryRequests, id)
			if code != tc.status {
				t.Fatalf("dry run: %d %s; want %d", code, got, tc.status)
			}
			if after := writes(); after != writesBefore {
				t.Errorf("writes reached the services during the dry run:\n%s\n(before:\n%s)", after, writesBefore)
			}
			if after := tableCounts(t, dbPath); fmt.Sprint(after) != fmt.Sprint(rowsBefore) {
				t.Errorf("rows changed by the dry run: %v -> %v", rowsBefore, after)
			}
			if code == http.StatusOK {
				checkPlan(t, got)
			}
			if !tc.real {
				return
			}
			realCode, realID, realBody := postWithID(t, h.URL+"/v1/manageable_servers", tc.body)
			realRequests = append(realRequests, realID)
			switch {
			case code == http.StatusOK:
				if realCode != http.StatusCreated {
					t.Fatalf("the real call after a successful dry run: %d %s", realCode, realBody)
				}
				samePlannedServer(t, got, realBody)
			case realCode != code || bodyFaultString(t, realBody) != bodyFaultString(t, got):
				t.Errorf("real call %d %q; dry run %d %q", realCode, realBody, code, got)
			}
		})
	}
	hold.Release()
	held.Wait()

	// A last real adoption is the marker: every notification before its
	// end has been read once it arrives, and none is a dry run's. (Its
	// image is a URL: Glance, closed, is not asked.)
	code, markerID, markerBody := postWithID(t, h.URL+"/v1/manageable_servers", `{"name": "marker", "node_uuid": "`+urlImage.UUID+`"}`)
	if code != http.StatusCreated {
		t.Fatalf("the marker adoption: %d %s", code, markerBody)
	}
	seen := map[string]int{}
	for {
		var d amqp.Delivery
		select {
		case d = <-deliveries:
		case <-time.After(30 * time.Second):
			t.Fatalf("the marker's server.manage.end never arrived; seen %v:\n%s", seen, h.logs)
		}
		event, requestID := notificationOf(t, d.Body)
		seen[requestID]++
		if slices.Contains(dryRequests, requestID) {
			t.Errorf("a dry run (%s) sent %s", requestID, event)
		}
		if requestID == markerID && event == "server.manage.end" {
			break
		}
	}
	if len(seen) < 3 {
		t.Errorf("notifications from only %d requests (%v): the queue saw too little to prove anything", len(seen), seen)
	}
	t.Logf("%d dry runs, %d real calls; writes seen by the proxies:\n%s", len(dryRequests), len(realRequests), writes())
}

// postWithID posts a JSON body and returns the status, the request id and
// the body.
func postWithID(t *testing.T, url, body string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0, "", ""
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, "", ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Openstack-Request-Id"), string(b)
}

// checkPlan checks a dry run's body has the plan's shape.
func checkPlan(t *testing.T, body string) {
	t.Helper()
	var plan struct {
		DryRun *bool `json:"dry_run"`
		Server map[string]any
		Ports  []struct {
			PortID     string `json:"port_id"`
			NetworkID  string `json:"network_id"`
			MACAddress string `json:"mac_address"`
		} `json:"ports_to_bind"`
		ImageUUID *string `json:"image_uuid"`
	}
	if err := json.Unmarshal([]byte(body), &plan); err != nil {
		t.Fatal(err)
	}
	if plan.DryRun == nil || !*plan.DryRun || plan.Server == nil || plan.Server["uuid"] != nil ||
		fmt.Sprint(plan.Server["links"]) != "[]" || plan.Ports == nil {
		t.Errorf("plan = %s", body)
	}
	for _, p := range plan.Ports {
		if p.PortID == "" || p.NetworkID == "" || p.MACAddress == "" {
			t.Errorf("port to bind %+v", p)
		}
	}
}

// samePlannedServer checks the dry run's server is the one the real call
// recorded, but for what only the real call can know.
func samePlannedServer(t *testing.T, planBody, realBody string) {
	t.Helper()
	var plan struct {
		Server    map[string]any `json:"server"`
		ImageUUID any            `json:"image_uuid"`
		Ports     []struct {
			PortID string `json:"port_id"`
		} `json:"ports_to_bind"`
	}
	var real map[string]any
	if err := json.Unmarshal([]byte(planBody), &plan); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(realBody), &real); err != nil {
		t.Fatal(err)
	}
	if plan.ImageUUID != real["image_uuid"] || len(plan.Ports) == 0 {
		t.Errorf("plan image %v, %d ports; adopted image %v", plan.ImageUUID, len(plan.Ports), real["image_uuid"])
	}
	for _, k := range []string{"uuid", "links", "created_at", "launched_at", "updated_at"} {
		delete(real, k)
		delete(plan.Server, k)
	}
	if fmt.Sprint(real) != fmt.Sprint(plan.Server) {
		t.Errorf("planned server differs from the adopted one:\nplanned %v\nadopted %v", plan.Server, real)
	}
}

// consumeNotifications binds a fresh queue to exchange (declared as oslo
// declares it) for every versioned notification.
func consumeNotifications(t *testing.T, exchange string) <-chan amqp.Delivery {
	t.Helper()
	conn, err := amqp.Dial(rabbitURL)
	if err != nil {
		t.Fatalf("RabbitMQ at 127.0.0.1:5672 is needed (.ci/run starts it): %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(exchange, "topic", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = ch.ExchangeDelete(exchange, false, false)
		for _, q := range []string{"versioned_notifications.info", "versioned_notifications.error"} {
			_, _ = ch.QueueDelete(q, false, false, false)
		}
	})
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(q.Name, "versioned_notifications.*", exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return deliveries
}

// notificationOf reads an oslo messagingv2 body: its event type and the
// request id of its context.
func notificationOf(t *testing.T, body []byte) (event, requestID string) {
	t.Helper()
	var envelope struct {
		Message string `json:"oslo.message"`
	}
	var msg struct {
		EventType string `json:"event_type"`
		RequestID string `json:"_context_request_id"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		t.Fatalf("envelope %s: %v", body, err)
	}
	if err := json.Unmarshal([]byte(envelope.Message), &msg); err != nil {
		t.Fatalf("message %s: %v", envelope.Message, err)
	}
	return msg.EventType, msg.RequestID
}
