package notify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
)

func TestNewDrivers(t *testing.T) {
	tests := map[string]struct {
		cfg      Config
		wantType string
		wantErr  string
	}{
		"empty is noop":       {cfg: Config{}, wantType: "notify.noop"},
		"noop":                {cfg: Config{Driver: "noop"}, wantType: "notify.noop"},
		"log":                 {cfg: Config{Driver: "log"}, wantType: "*notify.logNotifier"},
		"messagingv2":         {cfg: Config{Driver: "messagingv2", TransportURL: "rabbit://guest:guest@127.0.0.1:1/"}, wantType: "*notify.amqpNotifier"},
		"messaging refused":   {cfg: Config{Driver: "messaging"}, wantErr: "[oslo_messaging_notifications] driver = messaging (oslo's 1.0 envelope) is not supported: set driver = messagingv2"},
		"unknown refused":     {cfg: Config{Driver: "kafka"}, wantErr: `[oslo_messaging_notifications] driver = "kafka" is not supported: set driver to noop, log or messagingv2`},
		"no transport_url":    {cfg: Config{Driver: "messagingv2"}, wantErr: "[DEFAULT] transport_url is required for [oslo_messaging_notifications] driver = messagingv2"},
		"bad transport_url":   {cfg: Config{Driver: "messagingv2", TransportURL: "kafka://u:pw@h/"}, wantErr: `scheme "kafka" is not supported`},
		"empty topic refused": {cfg: Config{Driver: "log", Topics: []string{"versioned_notifications", " "}}, wantErr: "topics has an empty topic"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			n, err := New(t.Context(), tc.cfg)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr && !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := n.Close(t.Context()); err != nil {
					t.Error(err)
				}
			}()
			if got := fmt.Sprintf("%T", n); got != tc.wantType {
				t.Errorf("driver %T, want %s", n, tc.wantType)
			}
		})
	}
}

func TestLogDriver(t *testing.T) {
	var out bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &out, JSONFormat: true, Level: hclog.Info})
	n, err := New(t.Context(), Config{Driver: "log", PublisherID: "mogan-api:h1", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	rc := RequestContext{RequestID: "req-1", UserID: "u1"}
	payload := NewServerActionPayload(map[string]any{"uuid": "s1"})
	n.Notify(t.Context(), Notification{EventType: "server.manage.start", Priority: Info, Context: rc, Payload: payload})
	n.Notify(t.Context(), Notification{EventType: "server.manage.error", Priority: Error, Context: rc,
		Payload: NewServerActionPayload(map[string]any{"uuid": "s1", "fault": Fault{Exception: "NodeNotFound", ExceptionMessage: "gone"}})})
	n.Notify(t.Context(), Notification{EventType: "bad", Priority: Info, Payload: make(chan int)})
	if err := n.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	n.Notify(t.Context(), Notification{EventType: "after.close", Priority: Info})
	if got := n.Dropped(); got != 2 {
		t.Errorf("Dropped() = %d, want 2 (the unencodable payload and the one after Close)", got)
	}

	type line struct {
		Level     string `json:"@level"`
		Message   string `json:"@message"`
		EventType string `json:"event_type"`
		Priority  string `json:"priority"`
		Body      string `json:"body"`
	}
	var lines []line
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, sc.Bytes())
		}
		if l.Message == "notification" {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d notification lines, want 2:\n%s", len(lines), out.String())
	}
	wantLevels := []string{"info", "error"}
	wantData := []map[string]any{
		{"uuid": "s1", "fault": nil},
		{"uuid": "s1", "fault": map[string]any{
			"mogan_object.name": "ExceptionPayload", "mogan_object.namespace": "mogan", "mogan_object.version": "1.0",
			"mogan_object.data": map[string]any{"module_name": "unknown", "function_name": "unknown", "exception": "NodeNotFound", "exception_message": "gone"},
		}},
	}
	for i, l := range lines {
		if l.Level != wantLevels[i] || l.Priority != []string{"INFO", "ERROR"}[i] {
			t.Errorf("line %d: level %q priority %q", i, l.Level, l.Priority)
		}
		// oslo's log driver prints the notification dict: no _unique_id,
		// no context.
		if got := keysInOrder(t, []byte(l.Body)); !cmp.Equal(got, []string{"message_id", "publisher_id", "event_type", "priority", "payload", "timestamp"}) {
			t.Errorf("line %d: body keys %v", i, got)
		}
		var body struct {
			EventType   string          `json:"event_type"`
			PublisherID string          `json:"publisher_id"`
			Payload     VersionedObject `json:"payload"`
		}
		if err := json.Unmarshal([]byte(l.Body), &body); err != nil {
			t.Fatal(err)
		}
		if body.EventType != l.EventType || body.PublisherID != "mogan-api:h1" || body.Payload.Name != "ServerActionPayload" {
			t.Errorf("line %d: body %+v", i, body)
		}
		if diff := cmp.Diff(wantData[i], body.Payload.Data); diff != "" {
			t.Errorf("line %d: payload data (-want +got):\n%s", i, diff)
		}
	}
}

func TestNewServerActionPayload(t *testing.T) {
	in := map[string]any{"uuid": "s1"}
	p := NewServerActionPayload(in)
	if _, has := in["fault"]; has {
		t.Error("the caller's map was changed")
	}
	raw, err := pyJSON(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"mogan_object.name": "ServerActionPayload", "mogan_object.namespace": "mogan", "mogan_object.version": "1.0", "mogan_object.data": {"fault": null, "uuid": "s1"}}`
	if string(raw) != want {
		t.Errorf("got  %s\nwant %s", raw, want)
	}
}
