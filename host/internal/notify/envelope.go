package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// RequestContext is who asked, as oslo.context's RequestContext carries it.
// It becomes the message's _context_* fields, the keys of oslo.context's
// to_dict() (what Mogan's RequestContextSerializer sends), minus auth_token:
// there is deliberately no token field, so a caller's token can never reach
// a notification.
type RequestContext struct {
	RequestID       string // "req-<uuid>"; generated when empty, as oslo.context does
	GlobalRequestID string
	UserID          string // _context_user
	ProjectID       string // _context_project_id and _context_project
	DomainID        string
	UserDomainID    string
	ProjectDomainID string
	SystemScope     string
	ResourceUUID    string
	Roles           []string
	IsAdmin         bool
	// IsAdminProject is keystonemiddleware's X-Is-Admin-Project; nil means
	// true, oslo.context's default.
	IsAdminProject *bool
	ReadOnly       bool
	ShowDeleted    bool
	// UserName and ProjectName are not in oslo.context's to_dict but its
	// from_dict reads them, and Nova's context sends them; they go last.
	UserName    string
	ProjectName string
}

// contextFields returns the _context_* fields in to_dict()'s order.
// Empty strings become null, as Python's None.
func (c RequestContext) contextFields() []field {
	roles := c.Roles
	if roles == nil {
		roles = []string{}
	}
	adminProject := true
	if c.IsAdminProject != nil {
		adminProject = *c.IsAdminProject
	}
	reqID := c.RequestID
	if reqID == "" {
		reqID = "req-" + uuid.NewString()
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	// oslo.context's default user_idt_format.
	identity := strings.Join([]string{dash(c.UserID), dash(c.ProjectID), dash(c.DomainID), dash(c.UserDomainID), dash(c.ProjectDomainID)}, " ")
	fs := []field{
		{"user", nullable(c.UserID)},
		{"project_id", nullable(c.ProjectID)},
		{"system_scope", nullable(c.SystemScope)},
		{"project", nullable(c.ProjectID)},
		{"domain", nullable(c.DomainID)},
		{"user_domain", nullable(c.UserDomainID)},
		{"project_domain", nullable(c.ProjectDomainID)},
		{"is_admin", c.IsAdmin},
		{"read_only", c.ReadOnly},
		{"show_deleted", c.ShowDeleted},
		{"request_id", reqID},
		{"global_request_id", nullable(c.GlobalRequestID)},
		{"resource_uuid", nullable(c.ResourceUUID)},
		{"roles", roles},
		{"user_identity", identity},
		{"is_admin_project", adminProject},
		{"user_name", nullable(c.UserName)},
		{"project_name", nullable(c.ProjectName)},
	}
	for i := range fs {
		fs[i].key = "_context_" + fs[i].key
	}
	return fs
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// field is one key of a JSON object whose key order matters: Python's
// dicts keep insertion order, and matching it keeps our bodies
// byte-for-byte comparable with oslo's.
type field struct {
	key   string
	value any
}

type object []field

// pyJSON encodes v as Python's json.dumps does by default (oslo's
// jsonutils and kombu): ", " and ": " separators, non-ASCII escaped,
// no HTML escaping.
func pyJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, v); err != nil {
		return nil, err
	}
	return pythonStyle(buf.Bytes()), nil
}

// writeJSON writes compact JSON; objects keep their field order.
func writeJSON(buf *bytes.Buffer, v any) error {
	o, ok := v.(object)
	if !ok {
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		return nil
	}
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := writeJSON(buf, f.key); err != nil {
			return err
		}
		buf.WriteByte(':')
		if err := writeJSON(buf, f.value); err != nil {
			return fmt.Errorf("%s: %w", f.key, err)
		}
	}
	buf.WriteByte('}')
	return nil
}

// pythonStyle rewrites compact JSON with Python's separators and
// ensure_ascii escaping. Only bytes outside strings are separators.
func pythonStyle(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	inString, escaped := false, false
	for i := 0; i < len(b); {
		c := b[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(b[i:])
			if r > 0xffff {
				r -= 0x10000
				out = fmt.Appendf(out, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			} else {
				out = fmt.Appendf(out, `\u%04x`, r)
			}
			i += size
			continue
		}
		out = append(out, c)
		i++
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ',' || c == ':'):
			out = append(out, ' ')
		}
	}
	return out
}

// timestamp is str(datetime.utcnow()), oslo's form: microseconds, and
// none at all when they are zero.
func timestamp(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05.000000")
}

// message is oslo's notification dict (Notifier._notify) before the
// driver adds _unique_id and the context; the log driver prints it.
func message(n Notification, publisherID string, now time.Time) object {
	return object{
		{"message_id", uuid.NewString()},
		{"publisher_id", publisherID},
		{"event_type", n.EventType},
		{"priority", string(n.Priority)},
		{"payload", n.Payload},
		{"timestamp", timestamp(now)},
	}
}

// envelope is the AMQP body the messagingv2 driver publishes:
// {"oslo.version": "2.0", "oslo.message": "<json>"}, the message carrying
// _unique_id (oslo listeners drop duplicates by it, which makes our
// retries after a lost confirm safe) and the _context_* fields.
func envelope(msg object, rc RequestContext) ([]byte, error) {
	full := append(object{}, msg...)
	full = append(full, field{"_unique_id", strings.ReplaceAll(uuid.NewString(), "-", "")})
	full = append(full, rc.contextFields()...)
	inner, err := pyJSON(full)
	if err != nil {
		return nil, err
	}
	return pyJSON(object{
		{"oslo.version", "2.0"},
		{"oslo.message", string(inner)},
	})
}

// routingKey is oslo's target topic for a notification: "<topic>.<priority>".
func routingKey(topic string, p Priority) string {
	return topic + "." + strings.ToLower(string(p))
}
