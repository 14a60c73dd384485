// Package schema checks API request bodies against the JSON schemas of the
// spec, kept as data (*.json beside this file) and evaluated by
// gojsonschema, and words the first violation the way Mogan and Nova do.
// It also refuses what no schema says but no store can keep: the NUL
// character in any string and a body that is not valid UTF-8.
package schema

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xeipuuv/gojsonschema"
)

//go:embed manage_server.json
var manageServerJSON []byte

//go:embed migration.json
var migrationJSON []byte

// Validator checks documents against one schema.
type Validator struct {
	schema *gojsonschema.Schema
	// maps are the object properties (at any depth of "properties")
	// whose patternProperties the Validator checks itself. gojsonschema
	// compiles a patternProperties regexp again for every key it meets
	// (~0.3 ms a key), so the rules are taken out of the schema at load
	// and their regexps compiled once.
	maps []mapRule
	// secrets are the fields ("secrets") whose values no error message
	// quotes: the properties the schema marks "x-secret": true. A value
	// inside one is never shown; a value holding one is shown without it.
	secrets []string
}

// secretShown stands for a secret's value in an error message.
const secretShown = "(a secret, not shown)"

// mapRule is one object property's patternProperties and
// additionalProperties, as the schema file spells them.
type mapRule struct {
	// property is where the object is, as fields are named: "metadata",
	// "server.metadata".
	property string
	path     []string
	patterns []patternRule
	// additional checks a key no pattern matches: nil means any value is
	// allowed, refuseAdditional that the key itself is refused.
	additional       *gojsonschema.Schema
	refuseAdditional bool
}

type patternRule struct {
	re     *regexp.Regexp
	schema *gojsonschema.Schema
}

// ManageServer returns the validator for POST /v1/manageable_servers.
func ManageServer() (*Validator, error) {
	v, err := compile(manageServerJSON)
	if err != nil {
		return nil, fmt.Errorf("manage_server schema: %w", err)
	}
	return v, nil
}

// Migration returns the validator for POST /v1/migrations. It checks that
// source.machine is an object; the machine itself is the inventory's, and
// the API checks it with shared/inventory, as the CLI does.
func Migration() (*Validator, error) {
	v, err := compile(migrationJSON)
	if err != nil {
		return nil, fmt.Errorf("migration schema: %w", err)
	}
	return v, nil
}

// compile loads a schema whose root is an object schema, moving the
// patternProperties of its properties (and of theirs) into mapRules.
func compile(raw []byte) (*Validator, error) {
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil, err
	}
	v := &Validator{}
	if err := v.takeRules(nil, root); err != nil {
		return nil, err
	}
	s, err := gojsonschema.NewSchema(gojsonschema.NewGoLoader(root))
	if err != nil {
		return nil, err
	}
	v.schema = s
	return v, nil
}

// takeRules walks the properties of the object schema node, which sits at
// path, noting the secret ones and taking out the patternProperties rules.
func (v *Validator) takeRules(path []string, node map[string]any) error {
	props, _ := node["properties"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(props)) {
		prop, _ := props[name].(map[string]any)
		at := append(slices.Clone(path), name)
		field := strings.Join(at, ".")
		if secret, _ := prop["x-secret"].(bool); secret {
			v.secrets = append(v.secrets, field)
		}
		patterns, ok := prop["patternProperties"].(map[string]any)
		if !ok {
			if err := v.takeRules(at, prop); err != nil {
				return err
			}
			continue
		}
		rule := mapRule{property: field, path: at}
		for _, pattern := range slices.Sorted(maps.Keys(patterns)) {
			re, err := regexp.Compile(pattern)
			if err != nil {
				return fmt.Errorf("%s: patternProperties %q: %w", field, pattern, err)
			}
			sub, err := gojsonschema.NewSchema(gojsonschema.NewGoLoader(patterns[pattern]))
			if err != nil {
				return fmt.Errorf("%s: patternProperties %q: %w", field, pattern, err)
			}
			rule.patterns = append(rule.patterns, patternRule{re: re, schema: sub})
		}
		switch ap := prop["additionalProperties"].(type) {
		case nil:
		case bool:
			rule.refuseAdditional = !ap
		default:
			sub, err := gojsonschema.NewSchema(gojsonschema.NewGoLoader(ap))
			if err != nil {
				return fmt.Errorf("%s: additionalProperties: %w", field, err)
			}
			rule.additional = sub
		}
		// Both are checked by the rule; without patternProperties,
		// additionalProperties would refuse every key.
		delete(prop, "patternProperties")
		delete(prop, "additionalProperties")
		v.maps = append(v.maps, rule)
	}
	return nil
}

// Error is a body that does not match the schema. Its message names the
// field, as in "Invalid input for field/attribute name. Value: . String
// length must be greater than or equal to 1".
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

// violation is one rule a document breaks: field as gojsonschema names it
// ("name", "metadata.k"), "" for the body as a whole; value is what sits
// at at (the object of a missing or unknown property is at its parent).
type violation struct {
	field string
	desc  string
	value any
	at    string
}

// before orders violations so that the same body always gets the same
// answer, whatever order they were found in.
func (a violation) before(b violation) bool {
	return a.field+"\x00"+a.desc < b.field+"\x00"+b.desc
}

// Decode parses a request body the way Validate wants it: numbers as
// json.Number. Malformed JSON and trailing data get json.Unmarshal's
// errors.
func Decode(body []byte) (any, error) {
	var doc any
	if !json.Valid(body) {
		return nil, json.Unmarshal(body, &doc) // json.Unmarshal has no UseNumber, but the same checks and words
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// Validate checks doc, as Decode returns it, in time linear in its size.
// A document decoded by json.Unmarshal (numbers as float64) gets the same
// answer, more slowly: gojsonschema needs json.Number, so such a document
// goes through a JSON round trip.
func (v *Validator) Validate(doc any) error {
	raw := true
	if c := nulViolation("", doc, &raw); c != nil {
		return v.errorOf(*c)
	}
	load := gojsonschema.NewRawLoader
	if !raw {
		load = gojsonschema.NewGoLoader
	}
	res, err := v.schema.Validate(load(doc))
	if err != nil {
		return &Error{Message: "Invalid input: " + err.Error()}
	}
	var first *violation
	consider := func(c violation) {
		if first == nil || c.before(*first) {
			first = &c
		}
	}
	for _, e := range res.Errors() {
		consider(fromResult(e, ""))
	}
	for _, rule := range v.maps {
		if m, ok := objectAt(doc, rule.path); ok {
			rule.check(m, load, consider)
		}
	}
	if first == nil {
		return nil
	}
	return v.errorOf(*first)
}

// objectAt is the object at path in doc, if there is one.
func objectAt(doc any, path []string) (map[string]any, bool) {
	for _, name := range path {
		obj, ok := doc.(map[string]any)
		if !ok {
			return nil, false
		}
		doc = obj[name]
	}
	obj, ok := doc.(map[string]any)
	return obj, ok
}

// check applies the rule to every key of m, as gojsonschema would, reporting
// each violation to consider.
func (r mapRule) check(m map[string]any, load func(any) gojsonschema.JSONLoader, consider func(violation)) {
	for key, value := range m {
		field := func() string { return r.property + "." + key } // only errors need it
		matched := false
		for _, p := range r.patterns {
			if p.re.MatchString(key) {
				matched = true
				validateSub(p.schema, load(value), field, consider)
			}
		}
		switch {
		case matched:
		case r.refuseAdditional:
			// gojsonschema's words and field for additionalProperties: false.
			consider(violation{field: r.property, desc: "Additional property " + truncate(key, maxValueBytes) + " is not allowed",
				value: value, at: r.property + "." + key})
		case r.additional != nil:
			validateSub(r.additional, load(value), field, consider)
		}
	}
}

// validateSub checks value against a sub-schema, naming its violations
// under field.
func validateSub(s *gojsonschema.Schema, value gojsonschema.JSONLoader, field func() string, consider func(violation)) {
	res, err := s.Validate(value)
	if err != nil {
		consider(violation{field: field(), desc: err.Error(), value: value.JsonSource(), at: field()})
		return
	}
	for _, e := range res.Errors() {
		consider(fromResult(e, field()))
	}
}

// fromResult turns gojsonschema's error into a violation; under is the
// field the validated value sits at ("" for the whole body).
func fromResult(e gojsonschema.ResultError, under string) violation {
	field := e.Field()
	at := join(under, field)
	if field == "(root)" {
		at = under
	}
	switch {
	case field == "(root)" && under == "":
		// "name is required", "Additional property x is not allowed":
		// the property named in the details is the field.
		field, _ = e.Details()["property"].(string)
	case field == "(root)":
		field = under
	case e.Type() == "required":
		// A property missing from a nested object is named as a field
		// of it: "target.backend".
		property, _ := e.Details()["property"].(string)
		field = join(under, join(field, property))
	default:
		field = join(under, field)
	}
	return violation{field: field, desc: e.Description(), value: e.Value(), at: at}
}

// errorOf words a violation; a secret's value is never part of it.
func (v *Validator) errorOf(c violation) *Error {
	desc := capitalize(c.desc)
	if c.field == "" {
		return &Error{Message: "Invalid input. " + desc}
	}
	return &Error{
		Field:   c.field,
		Message: fmt.Sprintf("Invalid input for field/attribute %s. Value: %s. %s", c.field, v.shown(c), desc),
	}
}

// shown is the violation's value as its message quotes it: a secret's is
// not shown, and a value holding secrets is shown without them.
func (v *Validator) shown(c violation) string {
	value := c.value
	for _, s := range v.secrets {
		switch {
		case c.at == s || strings.HasPrefix(c.at, s+"."):
			return secretShown
		case c.at == "":
			value = withoutSecret(value, strings.Split(s, "."))
		case strings.HasPrefix(s, c.at+"."):
			value = withoutSecret(value, strings.Split(strings.TrimPrefix(s, c.at+"."), "."))
		}
	}
	return shortValue(value)
}

// withoutSecret is doc with the value at path (if any) replaced by
// secretShown; doc itself is not changed.
func withoutSecret(doc any, path []string) any {
	obj, ok := doc.(map[string]any)
	if !ok || len(path) == 0 {
		return doc
	}
	inner, ok := obj[path[0]]
	if !ok {
		return doc
	}
	out := maps.Clone(obj)
	if len(path) == 1 {
		out[path[0]] = secretShown
	} else {
		out[path[0]] = withoutSecret(inner, path[1:])
	}
	return out
}

func capitalize(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// nulViolation finds the NUL character in any string of doc, keys
// included: PostgreSQL cannot store it in text and SQLite would, so the two
// engines would disagree. Of several, the one with the least field is
// reported, so the same body always gets the same answer. path is where
// doc sits ("" for the body); *raw is cleared when doc holds a float64
// (decoded by json.Unmarshal rather than Decode).
func nulViolation(path string, doc any, raw *bool) *violation {
	var first *violation
	consider := func(c *violation) {
		if c != nil && (first == nil || c.before(*first)) {
			first = c
		}
	}
	refuse := func(field, s string) *violation {
		return &violation{field: field, desc: "Strings must not contain the NUL character (\\u0000)", value: s, at: field}
	}
	switch d := doc.(type) {
	case string:
		if strings.IndexByte(d, 0) >= 0 {
			return refuse(path, d)
		}
	case float64:
		*raw = false
	case map[string]any:
		for k, e := range d {
			if strings.IndexByte(k, 0) >= 0 {
				consider(refuse(path, k)) // a bad key is its object's fault, as in the schema's errors
			}
			if str, ok := e.(string); ok && strings.IndexByte(str, 0) < 0 {
				continue // the common case, without building the path
			}
			consider(nulViolation(join(path, k), e, raw))
		}
	case []any:
		for i, e := range d {
			consider(nulViolation(join(path, strconv.Itoa(i)), e, raw))
		}
	}
	return first
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// shortValue renders the offending value as JSON, cut (on a character
// boundary) so that a 1 MiB string does not come back in the error.
func shortValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return truncate(fmt.Sprint(v), maxValueBytes)
	}
	return truncate(string(b), maxValueBytes)
}

// maxValueBytes is how much of a value an error message quotes.
const maxValueBytes = 80

// truncate cuts s to at most max bytes plus "...", never inside a UTF-8
// character.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
