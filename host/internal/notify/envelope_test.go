package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// capture is one message of testdata/oslo-notification-sample.json, what
// Debian 12's oslo.messaging 14.0.3 messagingv2 driver published.
type capture struct {
	Exchange   string `json:"exchange"`
	RoutingKey string `json:"routing_key"`
	Properties struct {
		ContentType     string         `json:"content_type"`
		ContentEncoding string         `json:"content_encoding"`
		Headers         map[string]any `json:"headers"`
		DeliveryMode    uint8          `json:"delivery_mode"`
		Priority        uint8          `json:"priority"`
	} `json:"properties"`
	Body json.RawMessage `json:"body"`
}

func loadCapture(t *testing.T) []capture {
	t.Helper()
	raw, err := os.ReadFile("testdata/oslo-notification-sample.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs []capture
	if err := json.Unmarshal(raw, &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("capture has %d messages, want 2", len(cs))
	}
	return cs
}

// keysInOrder returns an object's top-level keys in document order.
func keysInOrder(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// innerMessage unpacks a body's oslo.message.
func innerMessage(t *testing.T, body []byte) (outerKeys []string, inner string) {
	t.Helper()
	var outer struct {
		Version string `json:"oslo.version"`
		Message string `json:"oslo.message"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	if outer.Version != "2.0" {
		t.Errorf("oslo.version = %q, want 2.0", outer.Version)
	}
	return keysInOrder(t, body), outer.Message
}

var (
	uuid4Re     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	uniqueIDRe  = regexp.MustCompile(`^[0-9a-f]{32}$`)
	timestampRe = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$`)
)

// TestEnvelopeMatchesCapture builds the capture's two notifications and
// checks ours against oslo's: same outer and inner keys in the same
// order, same types, same values except the random ids and the time,
// and byte-for-byte the same text up to the context fields.
func TestEnvelopeMatchesCapture(t *testing.T) {
	for _, c := range loadCapture(t) {
		_, capInner := innerMessage(t, c.Body)
		var want map[string]any
		if err := json.Unmarshal([]byte(capInner), &want); err != nil {
			t.Fatal(err)
		}
		t.Run(want["event_type"].(string), func(t *testing.T) {
			n := Notification{
				EventType: want["event_type"].(string),
				Priority:  Priority(want["priority"].(string)),
				Context:   RequestContext{RequestID: "req-3f1c2b7e-0000-4000-8000-000000000001", UserID: "u1", IsAdmin: true},
				// A struct keeps upstream's field order, as a map would not.
				Payload: NewServerActionPayload(struct {
					UUID  string `json:"uuid"`
					Name  string `json:"name"`
					Fault *Fault `json:"fault"`
				}{UUID: "11111111-2222-3333-4444-555555555555", Name: "adopted-1"}),
			}
			if got := routingKey(DefaultTopic, n.Priority); got != c.RoutingKey {
				t.Errorf("routing key = %q, capture %q", got, c.RoutingKey)
			}
			msg := message(n, "mogan-api:host1", time.Now())
			body, err := envelope(msg, n.Context)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(keysInOrder(t, c.Body), keysInOrder(t, body)); diff != "" {
				t.Errorf("outer keys (-capture +ours):\n%s", diff)
			}
			_, inner := innerMessage(t, body)
			var got map[string]any
			if err := json.Unmarshal([]byte(inner), &got); err != nil {
				t.Fatal(err)
			}

			// Every key oslo sent, in its order, with its type; ours may
			// add only further _context_* fields, never a token.
			ourKeys := keysInOrder(t, []byte(inner))
			capKeys := keysInOrder(t, []byte(capInner))
			if diff := cmp.Diff(capKeys[:7], ourKeys[:7]); diff != "" {
				t.Errorf("message keys (-capture +ours):\n%s", diff)
			}
			for _, k := range capKeys {
				if fmt.Sprintf("%T", got[k]) != fmt.Sprintf("%T", want[k]) {
					t.Errorf("%s: type %T, capture %T", k, got[k], want[k])
				}
			}
			for _, k := range ourKeys[7:] {
				if !strings.HasPrefix(k, "_context_") || strings.Contains(k, "token") {
					t.Errorf("extra key %q: only _context_* fields may be added, and no token", k)
				}
			}
			random := map[string]*regexp.Regexp{"message_id": uuid4Re, "_unique_id": uniqueIDRe, "timestamp": timestampRe}
			for k, re := range random {
				if !re.MatchString(got[k].(string)) || !re.MatchString(want[k].(string)) {
					t.Errorf("%s: ours %q, capture %q; want both to match %s", k, got[k], want[k], re)
				}
				delete(got, k)
				delete(want, k)
			}
			for k := range got {
				if _, inCapture := want[k]; !inCapture {
					delete(got, k)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("message (-capture +ours):\n%s", diff)
			}

			// With oslo's random values put in, the text is oslo's.
			msg[0].value = want0(t, capInner, "message_id")
			msg[5].value = want0(t, capInner, "timestamp")
			body, err = envelope(msg, n.Context)
			if err != nil {
				t.Fatal(err)
			}
			_, inner = innerMessage(t, body)
			cut := strings.Index(capInner, `, "_unique_id"`)
			if !strings.HasPrefix(inner, capInner[:cut]) {
				t.Errorf("text differs from oslo's:\n ours    %s\n capture %s", inner[:min(cut, len(inner))], capInner[:cut])
			}
		})
	}
}

func want0(t *testing.T, inner, key string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(inner), &m); err != nil {
		t.Fatal(err)
	}
	return m[key].(string)
}

func TestContextFields(t *testing.T) {
	notAdminProject := false
	tests := map[string]struct {
		rc   RequestContext
		want map[string]any
	}{
		"empty: nulls, generated request id, oslo defaults": {
			rc: RequestContext{},
			want: map[string]any{
				"_context_user": nil, "_context_project_id": nil, "_context_system_scope": nil, "_context_project": nil,
				"_context_domain": nil, "_context_user_domain": nil, "_context_project_domain": nil,
				"_context_is_admin": false, "_context_read_only": false, "_context_show_deleted": false,
				"_context_request_id": "<generated>", "_context_global_request_id": nil, "_context_resource_uuid": nil,
				"_context_roles": []any{}, "_context_user_identity": "- - - - -", "_context_is_admin_project": true,
				"_context_user_name": nil, "_context_project_name": nil,
			},
		},
		"full": {
			rc: RequestContext{
				RequestID: "req-1", GlobalRequestID: "req-g", UserID: "u1", ProjectID: "p1", DomainID: "d1",
				UserDomainID: "ud", ProjectDomainID: "pd", SystemScope: "all", ResourceUUID: "r1",
				Roles: []string{"admin", "member"}, IsAdmin: true, IsAdminProject: &notAdminProject,
				ReadOnly: true, ShowDeleted: true, UserName: "alice", ProjectName: "ops",
			},
			want: map[string]any{
				"_context_user": "u1", "_context_project_id": "p1", "_context_system_scope": "all", "_context_project": "p1",
				"_context_domain": "d1", "_context_user_domain": "ud", "_context_project_domain": "pd",
				"_context_is_admin": true, "_context_read_only": true, "_context_show_deleted": true,
				"_context_request_id": "req-1", "_context_global_request_id": "req-g", "_context_resource_uuid": "r1",
				"_context_roles": []any{"admin", "member"}, "_context_user_identity": "u1 p1 d1 ud pd",
				"_context_is_admin_project": false, "_context_user_name": "alice", "_context_project_name": "ops",
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			raw, err := pyJSON(object(tc.rc.contextFields()))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if tc.want["_context_request_id"] == "<generated>" {
				id, _ := got["_context_request_id"].(string)
				if !strings.HasPrefix(id, "req-") || !uuid4Re.MatchString(strings.TrimPrefix(id, "req-")) {
					t.Errorf("generated request id %q, want req-<uuid4>", id)
				}
				got["_context_request_id"] = "<generated>"
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPythonStyle(t *testing.T) {
	tests := map[string]struct {
		in   any
		want string
	}{
		"separators":              {object{{"a", 1}, {"b", []int{1, 2}}}, `{"a": 1, "b": [1, 2]}`},
		"separators in strings":   {object{{"k,:", "x, y: z"}}, `{"k,:": "x, y: z"}`},
		"escaped quote":           {object{{"q", `say "a,b"`}}, `{"q": "say \"a,b\""}`},
		"ensure_ascii":            {"é€", `"\u00e9\u20ac"`},
		"astral as surrogates":    {"😀", `"\ud83d\ude00"`},
		"no HTML escaping":        {"<a&b>", `"<a&b>"`},
		"null, bool, nested":      {object{{"n", nil}, {"o", object{{"t", true}}}}, `{"n": null, "o": {"t": true}}`},
		"backslash before quote":  {`a\`, `"a\\"`},
		"map keys sorted by json": {map[string]int{"b": 2, "a": 1}, `{"a": 1, "b": 2}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := pyJSON(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTimestamp(t *testing.T) {
	tests := map[string]struct {
		in   time.Time
		want string
	}{
		"microseconds":              {time.Date(2026, 11, 26, 9, 34, 54, 447696000, time.UTC), "2026-11-26 09:34:54.447696"},
		"leading zeros kept":        {time.Date(2026, 1, 2, 3, 4, 5, 1000, time.UTC), "2026-01-02 03:04:05.000001"},
		"none when zero, as Python": {time.Date(2026, 1, 2, 3, 4, 5, 999, time.UTC), "2026-01-02 03:04:05"},
		"in UTC":                    {time.Date(2026, 1, 2, 3, 4, 5, 500000000, time.FixedZone("X", 3600)), "2026-01-02 02:04:05.500000"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := timestamp(tc.in); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
