// Package schema checks API request bodies against the JSON schemas of the
// spec, kept as data (*.json beside this file) and evaluated by
// gojsonschema, and words the first violation the way Mogan and Nova do.
package schema

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/xeipuuv/gojsonschema"
)

//go:embed manage_server.json
var manageServerJSON []byte

// Validator checks documents against one schema.
type Validator struct {
	schema *gojsonschema.Schema
}

// ManageServer returns the validator for POST /v1/manageable_servers.
func ManageServer() (*Validator, error) {
	s, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(manageServerJSON))
	if err != nil {
		return nil, fmt.Errorf("manage_server schema: %w", err)
	}
	return &Validator{schema: s}, nil
}

// Error is a body that does not match the schema. Its message names the
// field, as in "Invalid input for field/attribute name. Value: . String
// length must be greater than or equal to 1".
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Validate checks doc, already decoded from JSON (as json.Unmarshal into
// an any produces it).
func (v *Validator) Validate(doc any) error {
	res, err := v.schema.Validate(gojsonschema.NewGoLoader(doc))
	if err != nil {
		return &Error{Message: "Invalid input: " + err.Error()}
	}
	if res.Valid() {
		return nil
	}
	errs := res.Errors()
	// gojsonschema's order follows map iteration; sort so the same body
	// always gets the same answer.
	sort.SliceStable(errs, func(i, j int) bool { return describe(errs[i]) < describe(errs[j]) })
	return toError(errs[0])
}

func describe(e gojsonschema.ResultError) string { return e.Field() + "\x00" + e.Description() }

func toError(e gojsonschema.ResultError) *Error {
	field := e.Field()
	if field == "(root)" {
		// "name is required", "Additional property x is not allowed":
		// the property named in the details is the field.
		if p, ok := e.Details()["property"].(string); ok && p != "" {
			field = p
		} else {
			field = ""
		}
	}
	desc := e.Description()
	if len(desc) > 0 {
		desc = strings.ToUpper(desc[:1]) + desc[1:]
	}
	if field == "" {
		return &Error{Message: "Invalid input. " + desc}
	}
	return &Error{
		Field:   field,
		Message: fmt.Sprintf("Invalid input for field/attribute %s. Value: %s. %s", field, shortValue(e.Value()), desc),
	}
}

// shortValue renders the offending value as JSON, cut so that a 1 MiB
// string does not come back in the error.
func shortValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const maxLen = 80
	if len(b) > maxLen {
		return string(b[:maxLen]) + "..."
	}
	return string(b)
}
