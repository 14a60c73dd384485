package schema

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestManageServerSchema(t *testing.T) {
	long := strings.Repeat("x", 256)
	ok255 := strings.Repeat("x", 255)
	const node = `"node_uuid": "aacdbd78-d670-409e-95aa-ecfcfb94fee2"`
	tests := map[string]struct {
		body      string
		wantField string // "" = valid
		wantText  string
	}{
		"sample request":          {body: `{"name": "test_manageable_server", "description": "This is a manageable server", "metadata": {"My Server Name": "Apache1"}, ` + node + `}`},
		"only required":           {body: `{"name": "a", ` + node + `}`},
		"255-char name":           {body: `{"name": "` + ok255 + `", ` + node + `}`},
		"metadata key chars":      {body: `{"name": "a", "metadata": {"a-b_c:d. e": "v"}, ` + node + `}`},
		"missing name":            {body: `{` + node + `}`, wantField: "name", wantText: "required"},
		"missing node_uuid":       {body: `{"name": "a"}`, wantField: "node_uuid", wantText: "required"},
		"empty name":              {body: `{"name": "", ` + node + `}`, wantField: "name", wantText: "greater than or equal to 1"},
		"256-char name":           {body: `{"name": "` + long + `", ` + node + `}`, wantField: "name", wantText: "less than or equal to 255"},
		"name not a string":       {body: `{"name": 5, ` + node + `}`, wantField: "name", wantText: "Expected: string"},
		"empty description":       {body: `{"name": "a", "description": "", ` + node + `}`, wantField: "description"},
		"256-char description":    {body: `{"name": "a", "description": "` + long + `", ` + node + `}`, wantField: "description"},
		"metadata value number":   {body: `{"name": "a", "metadata": {"k": 1}, ` + node + `}`, wantField: "metadata.k", wantText: "Expected: string"},
		"metadata value 256":      {body: `{"name": "a", "metadata": {"k": "` + long + `"}, ` + node + `}`, wantField: "metadata.k"},
		"metadata key with slash": {body: `{"name": "a", "metadata": {"a/b": "v"}, ` + node + `}`, wantField: "metadata", wantText: "a/b"},
		"metadata key 256":        {body: `{"name": "a", "metadata": {"` + long + `": "v"}, ` + node + `}`, wantField: "metadata"},
		"metadata not an object":  {body: `{"name": "a", "metadata": [], ` + node + `}`, wantField: "metadata", wantText: "Expected: object"},
		"extra property":          {body: `{"name": "a", "flavor_uuid": "x", ` + node + `}`, wantField: "flavor_uuid", wantText: "not allowed"},
		"invalid uuid":            {body: `{"name": "a", "node_uuid": "not-a-uuid"}`, wantField: "node_uuid", wantText: "uuid"},
		"uuid not a string":       {body: `{"name": "a", "node_uuid": 7}`, wantField: "node_uuid"},
		"null body":               {body: `null`, wantText: "Expected: object, given: null"},
		"array body":              {body: `[]`, wantText: "Expected: object, given: array"},
	}
	v, err := ManageServer()
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var doc any
			if err := json.Unmarshal([]byte(tc.body), &doc); err != nil {
				t.Fatal(err)
			}
			err := v.Validate(doc)
			if tc.wantField == "" && tc.wantText == "" {
				if err != nil {
					t.Fatalf("valid body refused: %v", err)
				}
				return
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("err = %v; want a schema error", err)
			}
			if se.Field != tc.wantField {
				t.Errorf("field = %q; want %q (message %q)", se.Field, tc.wantField, se.Message)
			}
			if !strings.Contains(se.Message, tc.wantText) {
				t.Errorf("message %q does not contain %q", se.Message, tc.wantText)
			}
			if tc.wantField != "" && !strings.Contains(se.Message, tc.wantField) {
				t.Errorf("message %q does not name the field %q", se.Message, tc.wantField)
			}
			if len(se.Message) > 400 {
				t.Errorf("message is %d bytes long; values must be cut", len(se.Message))
			}
		})
	}
}
