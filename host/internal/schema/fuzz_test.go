package schema

import (
	"errors"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"
)

// FuzzValidateMatchesGojsonschema: the Validator, which checks
// patternProperties itself with regexps compiled once, gives every body
// the answer gojsonschema gives on the schema file as it is (the slow
// reference: it compiles the pattern per key).
func FuzzValidateMatchesGojsonschema(f *testing.F) {
	for _, seed := range []string{
		`{"name": "a", "node_uuid": "aacdbd78-d670-409e-95aa-ecfcfb94fee2"}`,
		`{"name": "a", "metadata": {"k": "v", "a/b": 1, "c": {"x": null}}, "node_uuid": "x"}`,
		`{"metadata": {"": "", "k.k": "` + "\u00e9" + `"}, "extra": [1, 2]}`,
		`{"metadata": []}`, `{"metadata": {"k": 1.5e3}}`, `null`, `7`,
		`{"name": "a", "project_id": "p-1_X", "user_id": "u", "node_uuid": "aacdbd78-d670-409e-95aa-ecfcfb94fee2"}`,
		`{"project_id": "a b", "user_id": 1, "tenant_id": "x"}`, `{"project_id": "", "user_id": null}`,
	} {
		f.Add([]byte(seed))
	}
	fast, err := ManageServer()
	if err != nil {
		f.Fatal(err)
	}
	s, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(manageServerJSON))
	if err != nil {
		f.Fatal(err)
	}
	reference := &Validator{schema: s} // no rules taken out: gojsonschema does it all
	f.Fuzz(func(t *testing.T, body []byte) {
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
		// A long bad key is cut in the Validator's message only.
		if len(w.Message) < 200 && g.Message != w.Message {
			t.Fatalf("body %q: message %q, gojsonschema %q", body, g.Message, w.Message)
		}
	})
}

// FuzzCheckUTF8NothingIsReplaced: a body CheckUTF8 accepts decodes with
// no character replaced: every U+FFFD in its strings and keys was written
// by the client, as the character or as \ufffd. encoding/json puts one in
// place of each bad byte and each lone surrogate escape, which CheckUTF8
// must have refused.
func FuzzCheckUTF8NothingIsReplaced(f *testing.F) {
	for _, seed := range []string{
		`{"name": "a"}`, `{"name": "\ud83d\ude00"}`, `{"name": "\ud800"}`, `{"name": "\udc00"}`,
		`{"name": "\ud800\u0041"}`, `{"name": "\ud800\ud800"}`, `{"name": "a\\ud800"}`, `{"name": "\\\ud800"}`,
		`{"\udfff": 1}`, `{"name": "\ufffd"}`, "{\"name\": \"\xed\xa0\x80\"}", "{\"name\": \"\xff\"}",
		`["\uDBFF\uDFFF", "\uDBFF\uDFFE\uDC00"]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if CheckUTF8(body) != nil {
			return
		}
		doc, err := Decode(body)
		if err != nil {
			return
		}
		written := strings.Count(string(body), "\ufffd") + strings.Count(strings.ToLower(string(body)), `\ufffd`)
		if got := replacements(doc); got > written {
			t.Fatalf("body %q decodes with %d U+FFFD, the client wrote %d", body, got, written)
		}
	})
}

// replacements counts U+FFFD in doc's strings and keys.
func replacements(doc any) int {
	switch v := doc.(type) {
	case string:
		return strings.Count(v, "\ufffd")
	case []any:
		n := 0
		for _, e := range v {
			n += replacements(e)
		}
		return n
	case map[string]any:
		n := 0
		for k, e := range v {
			n += strings.Count(k, "\ufffd") + replacements(e)
		}
		return n
	}
	return 0
}
