package schema

import (
	"errors"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"
)

// secretValue is a password no error message may quote.
const secretValue = "Pw-7731-unique-secret"

// TestMigrationSchema: POST /v1/migrations's body, field by field: each
// violation names its field as the body spells it (server.metadata.k,
// target.backend, secrets.<name>), and an error about a secret, or about
// a value holding the secrets, never quotes a secret's value.
func TestMigrationSchema(t *testing.T) {
	const node = "aacdbd78-d670-409e-95aa-ecfcfb94fee2"
	machine := `"source": {"machine": {"driver": "redfish"}}`
	tests := map[string]struct {
		body      string
		wantField string // "" = valid (with wantText "")
		wantText  string
	}{
		"a machine":              {body: `{` + machine + `}`},
		"a source node":          {body: `{"source": {"backend": "east", "node_uuid": "` + node + `"}, "target": {"backend": "west"}}`},
		"everything":             {body: `{` + machine + `, "target": {"backend": "west"}, "server": {"name": "a", "description": "d", "metadata": {"k": "v"}, "project_id": "p", "user_id": "u"}, "secrets": {"redfish_password": "x", "ipmi.password": ""}, "network_map": {"physnet1": "prov", "*": "prov"}, "image": "https://images/a.img", "image_map": {"src": "aacdbd78-d670-409e-95aa-ecfcfb94fee2"}, "idempotency_key": "sha256:abc"}`},
		"no source":              {body: `{}`, wantField: "source", wantText: "Source is required"},
		"unknown field":          {body: `{` + machine + `, "adopt": true}`, wantField: "adopt", wantText: "not allowed"},
		"source unknown field":   {body: `{"source": {"host": "x"}}`, wantField: "source", wantText: "Additional property host is not allowed"},
		"source node_uuid":       {body: `{"source": {"backend": "east", "node_uuid": "x"}}`, wantField: "source.node_uuid", wantText: "uuid"},
		"source backend":         {body: `{"source": {"backend": "East", "node_uuid": "` + node + `"}}`, wantField: "source.backend", wantText: "Does not match pattern"},
		"machine not an object":  {body: `{"source": {"machine": []}}`, wantField: "source.machine", wantText: "Expected: object, given: array"},
		"target backend missing": {body: `{` + machine + `, "target": {}}`, wantField: "target.backend", wantText: "Backend is required"},
		"target unknown field":   {body: `{` + machine + `, "target": {"backend": "w", "node": "x"}}`, wantField: "target", wantText: "Additional property node is not allowed"},
		"server name missing":    {body: `{` + machine + `, "server": {}}`, wantField: "server.name", wantText: "Name is required"},
		"server name empty":      {body: `{` + machine + `, "server": {"name": ""}}`, wantField: "server.name", wantText: "greater than or equal to 1"},
		"server metadata key":    {body: `{` + machine + `, "server": {"name": "a", "metadata": {"a/b": "v"}}}`, wantField: "server.metadata", wantText: "Additional property a/b is not allowed"},
		"server metadata value":  {body: `{` + machine + `, "server": {"name": "a", "metadata": {"k": 1}}}`, wantField: "server.metadata.k", wantText: "Expected: string, given: integer"},
		"server user_id":         {body: `{` + machine + `, "server": {"name": "a", "user_id": "a b"}}`, wantField: "server.user_id", wantText: "Does not match pattern"},
		"server node_uuid":       {body: `{` + machine + `, "server": {"name": "a", "node_uuid": "` + node + `"}}`, wantField: "server", wantText: "Additional property node_uuid is not allowed"},
		"network_map value":      {body: `{` + machine + `, "network_map": {"a": ""}}`, wantField: "network_map.a", wantText: "greater than or equal to 1"},
		"network_map key":        {body: `{` + machine + `, "network_map": {"a b": "x"}}`, wantField: "network_map", wantText: "Additional property a b is not allowed"},
		"image":                  {body: `{` + machine + `, "image": "ubuntu"}`, wantField: "image", wantText: "Does not match pattern"},
		"image_map value":        {body: `{` + machine + `, "image_map": {"a": "b"}}`, wantField: "image_map.a", wantText: "Does not match pattern"},
		"idempotency_key":        {body: `{` + machine + `, "idempotency_key": "a\tb"}`, wantField: "idempotency_key", wantText: "Does not match pattern"},
		"idempotency_key long":   {body: `{` + machine + `, "idempotency_key": "` + strings.Repeat("k", 256) + `"}`, wantField: "idempotency_key", wantText: "Does not match pattern"},

		// Secrets: named, never quoted.
		"secret too long":       {body: `{` + machine + `, "secrets": {"p": "` + secretValue + strings.Repeat("x", 4096) + `"}}`, wantField: "secrets.p", wantText: "Value: (a secret, not shown). String length must be less than or equal to 4096"},
		"secret not a string":   {body: `{` + machine + `, "secrets": {"p": ["` + secretValue + `"]}}`, wantField: "secrets.p", wantText: "Value: (a secret, not shown). Invalid type"},
		"secret with NUL":       {body: `{` + machine + `, "secrets": {"p": "` + secretValue + `\u0000"}}`, wantField: "secrets.p", wantText: "Value: (a secret, not shown). Strings must not contain the NUL character"},
		"secret, a bad name":    {body: `{` + machine + `, "secrets": {"p=q": "` + secretValue + `"}}`, wantField: "secrets", wantText: "Value: (a secret, not shown). Additional property p=q is not allowed"},
		"secrets not an object": {body: `{` + machine + `, "secrets": "` + secretValue + `"}`, wantField: "secrets", wantText: "Value: (a secret, not shown). Invalid type. Expected: object"},
		"the body holds them":   {body: `{"secrets": {"p": "` + secretValue + `"}}`, wantField: "source", wantText: `Value: {"secrets":"(a secret, not shown)"}. Source is required`},
		"an unknown field":      {body: `{"secrets": {"p": "` + secretValue + `"}, "x": 1, ` + machine + `}`, wantField: "x", wantText: "Value: 1. Additional property x is not allowed"},
	}
	v, err := Migration()
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			doc, err := Decode([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			err = v.Validate(doc)
			checkValidation(t, err, tc.wantField, tc.wantText)
			if err != nil && strings.Contains(err.Error(), secretValue) {
				t.Errorf("the message %q quotes the secret", err)
			}
		})
	}
}

// FuzzMigrationValidateMatchesGojsonschema: on the migration schema too,
// the Validator (server.metadata, secrets, network_map and image_map
// checked with regexps compiled once) answers every body as gojsonschema
// does on the schema file as it is, but for the secrets it does not show.
func FuzzMigrationValidateMatchesGojsonschema(f *testing.F) {
	for _, seed := range []string{
		`{"source": {"machine": {"driver": "x"}}}`,
		`{"source": {}, "server": {"name": "a", "metadata": {"k": "v", "a/b": 1}}, "secrets": {"p": "` + secretValue + `", "a b": 2}}`,
		`{"source": {"backend": "e", "node_uuid": "x"}, "network_map": {"": "", "a": 1}, "image_map": {"a": "b"}}`,
		`{"server": [], "secrets": [], "network_map": "x", "target": {"backend": 7}}`,
		`{"source": {"machine": {}}, "server": {"name": "a", "metadata": {"k": "` + strings.Repeat("v", 256) + `"}}}`,
		`null`, `7`, `{"secrets": {"p": {"q": "r"}}}`,
	} {
		f.Add([]byte(seed))
	}
	fast, err := Migration()
	if err != nil {
		f.Fatal(err)
	}
	s, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(migrationJSON))
	if err != nil {
		f.Fatal(err)
	}
	reference := &Validator{schema: s, secrets: fast.secrets} // gojsonschema does it all
	f.Fuzz(func(t *testing.T, body []byte) {
		// The API refuses a body that is not UTF-8 before it validates
		// (CheckUTF8): such a body never reaches either validator, whose
		// messages may then cut the U+FFFD of its keys at different
		// places.
		if CheckUTF8(body) != nil {
			return
		}
		doc, err := Decode(body)
		if err != nil {
			return
		}
		got, want := fast.Validate(doc), reference.Validate(doc)
		if (got == nil) != (want == nil) {
			t.Fatalf("body %q: Validator says %v, gojsonschema %v", body, got, want)
		}
		if got == nil {
			return
		}
		var g, w *Error
		if !errors.As(got, &g) || !errors.As(want, &w) {
			t.Fatalf("body %q: errors %T and %T, want *Error", body, got, want)
		}
		if g.Field != w.Field {
			t.Fatalf("body %q: field %q, gojsonschema %q (%q vs %q)", body, g.Field, w.Field, g.Message, w.Message)
		}
		if len(w.Message) < 200 && g.Message != w.Message {
			t.Fatalf("body %q: message %q, gojsonschema %q", body, g.Message, w.Message)
		}
	})
}
