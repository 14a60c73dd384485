package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"
)

// rabbitURL is the RabbitMQ the tests publish to (.ci/run starts it).
const rabbitURL = "amqp://guest:guest@127.0.0.1:5672/"

// TestNotificationsOnRabbitMQ: an adoption, a refused adoption and a
// release, through a host publishing with messagingv2 to the real
// RabbitMQ, read back by a consumer bound to the exchange as an oslo
// listener would be: events in order, envelope and payload as oslo's.
func TestNotificationsOnRabbitMQ(t *testing.T) {
	ironicSrv, nodes := startIronic(t, 1)
	exchange := "mogan-e2e-" + uuid.NewString()[:8]

	deliveries := consumeNotifications(t, exchange)

	h := startHost(t, ironicHostConfig(t, "", ironicSrv.URL, fmt.Sprintf(
		"[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:5672/\ncontrol_exchange = %s\nhost = e2e-host\n"+
			"[oslo_messaging_notifications]\ndriver = messagingv2\n", exchange)))

	code, body := post(t, h.URL+"/v1/manageable_servers", `{"name": "web-1", "node_uuid": "`+nodes[0].UUID+`"}`)
	if code != http.StatusCreated {
		t.Fatalf("adopt: %d %s", code, body)
	}
	var srv serverRow
	if err := json.Unmarshal([]byte(body), &srv); err != nil {
		t.Fatal(err)
	}
	if code, body := post(t, h.URL+"/v1/manageable_servers", `{"name": "again", "node_uuid": "`+nodes[0].UUID+`"}`); code != http.StatusConflict {
		t.Fatalf("adopt again: %d %s", code, body)
	}
	if code, body := post(t, h.URL+"/v1/servers/"+srv.UUID+"/unmanage", ""); code != http.StatusNoContent {
		t.Fatalf("unmanage: %d %s", code, body)
	}

	want := []struct{ event, key string }{
		{"server.manage.start", "versioned_notifications.info"},
		{"server.manage.end", "versioned_notifications.info"},
		{"server.unmanage.start", "versioned_notifications.info"},
		{"server.unmanage.end", "versioned_notifications.info"},
	}
	for i, w := range want {
		var d amqp.Delivery
		select {
		case d = <-deliveries:
		case <-time.After(20 * time.Second):
			t.Fatalf("notification %d (%s) never arrived:\n%s", i, w.event, h.logs)
		}
		if d.RoutingKey != w.key || d.ContentType != "application/json" || d.DeliveryMode != amqp.Persistent {
			t.Errorf("%s: routing key %q, content type %q, delivery mode %d", w.event, d.RoutingKey, d.ContentType, d.DeliveryMode)
		}
		var envelope struct {
			Version string `json:"oslo.version"`
			Message string `json:"oslo.message"`
		}
		if err := json.Unmarshal(d.Body, &envelope); err != nil || envelope.Version != "2.0" {
			t.Fatalf("%s: envelope %s: %v", w.event, d.Body, err)
		}
		if strings.Contains(envelope.Message, "auth_token") {
			t.Errorf("%s carries a token field: %s", w.event, envelope.Message)
		}
		var msg struct {
			EventType   string `json:"event_type"`
			Priority    string `json:"priority"`
			PublisherID string `json:"publisher_id"`
			RequestID   string `json:"_context_request_id"`
			Payload     struct {
				Name string         `json:"mogan_object.name"`
				Data map[string]any `json:"mogan_object.data"`
			} `json:"payload"`
		}
		if err := json.Unmarshal([]byte(envelope.Message), &msg); err != nil {
			t.Fatalf("%s: message %s: %v", w.event, envelope.Message, err)
		}
		if msg.EventType != w.event || msg.Priority != "INFO" || msg.PublisherID != "mogan-api:e2e-host" ||
			!strings.HasPrefix(msg.RequestID, "req-") || msg.Payload.Name != "ServerActionPayload" {
			t.Errorf("notification %d = %+v; want %s", i, msg, w.event)
		}
		if msg.Payload.Data["uuid"] != srv.UUID || msg.Payload.Data["node_uuid"] != nodes[0].UUID {
			t.Errorf("%s payload data = %v", w.event, msg.Payload.Data)
		}
	}
	select {
	case d := <-deliveries:
		t.Errorf("unexpected notification (a refused claim sends none): %s", d.Body)
	case <-time.After(500 * time.Millisecond):
	}
}
