package inventory

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/xeipuuv/gojsonschema"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

//go:embed machine.schema.json
var machineSchemaJSON []byte

// MachineSchema is the JSON Schema (draft-04, as gojsonschema takes it) of
// one machine: driver.Machine's JSON form. Its x-message keywords word
// what a value that breaks a rule is not.
func MachineSchema() []byte { return bytes.Clone(machineSchemaJSON) }

// validName is Ironic's logical name rule, for labels.
var validName = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

// compiled is the machine schema ready to validate, and what the error
// messages need of it.
type compiled struct {
	schema *gojsonschema.Schema
	// messages maps a schema path ("ports.*.mac") to its x-message.
	messages map[string]string
	// fields maps an object's schema path ("", "ports.*") to its
	// property names, in the schema's order, for "unknown field".
	fields map[string][]string
}

var (
	compileOnce sync.Once
	machine     *compiled
	compileErr  error
)

func machineSchema() (*compiled, error) {
	compileOnce.Do(func() { machine, compileErr = compile(machineSchemaJSON) })
	return machine, compileErr
}

func compile(raw []byte) (*compiled, error) {
	s, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(raw))
	if err != nil {
		return nil, fmt.Errorf("machine schema: %w", err)
	}
	c := &compiled{schema: s, messages: map[string]string{}, fields: map[string][]string{}}
	// The property order of the file, for listing an object's fields.
	var root orderedSchema
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("machine schema: %w", err)
	}
	root.walk("", c)
	return c, nil
}

// orderedSchema is the part of a schema node the messages need, with its
// properties in the file's order.
type orderedSchema struct {
	Message    string         `json:"x-message"`
	Properties orderedProps   `json:"properties"`
	Items      *orderedSchema `json:"items"`
}

type orderedProps struct {
	names []string
	nodes map[string]*orderedSchema
}

func (p *orderedProps) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &p.nodes); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
		p.names = append(p.names, tok.(string))
	}
	return nil
}

func (s *orderedSchema) walk(path string, c *compiled) {
	if s.Message != "" {
		c.messages[path] = s.Message
	}
	if len(s.Properties.names) > 0 {
		c.fields[path] = s.Properties.names
	}
	for _, name := range s.Properties.names {
		s.Properties.nodes[name].walk(join(path, name), c)
	}
	if s.Items != nil {
		s.Items.walk(join(path, "*"), c)
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// ValidateMachine checks one machine, decoded from JSON (numbers as
// json.Number or float64), against the schema and the rules no schema can
// say, and returns it as a driver.Machine. Errors name the machine (by
// name, else "machine") and the field; the API uses it on a request's
// source.machine.
func ValidateMachine(doc any) (driver.Machine, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return driver.Machine{}, Errors{{Machine: "machine", Message: "cannot be read: " + err.Error()}}
	}
	norm, err := decodeJSONValue(b)
	if err != nil {
		return driver.Machine{}, Errors{{Machine: "machine", Message: "cannot be read: " + err.Error()}}
	}
	m, errs := checkMachine(norm, -1)
	return m, errs.err()
}

// checkMachine validates one machine of the generic form (maps, slices,
// strings, bools, nil and json.Number) and decodes it; index is its place
// in the file (-1: alone). The Errors have Machine and Field set.
func checkMachine(doc any, index int) (driver.Machine, Errors) {
	c, err := machineSchema()
	if err != nil {
		return driver.Machine{}, Errors{{Message: err.Error()}}
	}
	if obj, ok := doc.(map[string]any); ok && obj["name"] == "" {
		// driver.Machine's JSON form writes "" for a machine without a
		// name: that is no name, not an empty one.
		delete(obj, "name")
	}
	label := machineLabel(stringField(doc, "name"), index)
	res, err := c.schema.Validate(gojsonschema.NewRawLoader(doc))
	if err != nil {
		return driver.Machine{}, Errors{{Machine: label, Message: err.Error()}}
	}
	if !res.Valid() {
		return driver.Machine{}, c.errors(label, res.Errors())
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return driver.Machine{}, Errors{{Machine: label, Message: err.Error()}}
	}
	var m driver.Machine
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return driver.Machine{}, Errors{{Machine: label, Message: err.Error()}}
	}
	normalize(&m)
	errs := crossCheck(m)
	for _, e := range errs {
		e.Machine = label
	}
	return m, errs
}

func stringField(doc any, key string) string {
	obj, _ := doc.(map[string]any)
	s, _ := obj[key].(string)
	return s
}

// normalize makes an empty map or list absent, so that the same machine
// read from YAML ("driver_info: {}") and from CSV (an empty cell) is the
// same value.
func normalize(m *driver.Machine) {
	if len(m.DriverInfo) == 0 {
		m.DriverInfo = nil
	}
	if len(m.Properties) == 0 {
		m.Properties = nil
	}
	if len(m.Secrets) == 0 {
		m.Secrets = nil
	}
	if len(m.Traits) == 0 {
		m.Traits = nil
	}
	if len(m.Ports) == 0 {
		m.Ports = nil
	}
	for i := range m.Ports {
		if len(m.Ports[i].FixedIPs) == 0 {
			m.Ports[i].FixedIPs = nil
		}
	}
	if len(m.Portgroups) == 0 {
		m.Portgroups = nil
	}
	for i := range m.Portgroups {
		if len(m.Portgroups[i].Ports) == 0 {
			m.Portgroups[i].Ports = nil
		}
	}
}

// errors words gojsonschema's results: one per field, in the order of
// the fields, never a value that is not a plain string the operator wrote.
func (c *compiled) errors(label string, results []gojsonschema.ResultError) Errors {
	type found struct {
		path []string // field path as segments: "ports", "1", "mac"
		msg  string
	}
	var all []found
	seen := map[string]bool{}
	for _, r := range results {
		path := splitField(r.Field())
		d := r.Details()
		var msg string
		switch r.Type() {
		case "required":
			path = append(path, fmt.Sprint(d["property"]))
			msg = "is required"
		case "additional_property_not_allowed":
			parent := schemaPath(path)
			path = append(path, fmt.Sprint(d["property"]))
			msg = "unknown field; the fields of " + objectNoun(parent) + " are " + strings.Join(c.fields[parent], ", ")
		case "invalid_type":
			given := fmt.Sprint(d["given"])
			msg = fmt.Sprintf("must be %s, not %s", article(fmt.Sprint(d["expected"])), article(given))
			if d["expected"] == "string" && (given == "boolean" || given == "integer" || given == "number") {
				msg += " (in YAML, quote it: YAML reads yes, no, on, off, y, n and numbers as other types)"
			}
		case "unique":
			i, _ := strconv.Atoi(fmt.Sprint(d["i"]))
			j, _ := strconv.Atoi(fmt.Sprint(d["j"]))
			path = append(path, strconv.Itoa(j))
			msg = fmt.Sprintf("is listed twice (also [%d])", i)
			if items, ok := r.Value().([]any); ok && j < len(items) {
				if s, ok := items[j].(string); ok {
					msg = fmt.Sprintf("%s is listed twice (also [%d])", quote(s), i)
				}
			}
		case "array_max_items":
			msg = fmt.Sprintf("has more than %v items", d["max"])
		default:
			msg = c.valueMessage(path, r)
		}
		key := strings.Join(path, "\x00")
		if seen[key] {
			continue // one message a field: anyOf and its branches say the same
		}
		seen[key] = true
		all = append(all, found{path, msg})
	}
	sort.SliceStable(all, func(i, j int) bool { return lessPath(all[i].path, all[j].path) })
	errs := make(Errors, len(all))
	for i, f := range all {
		errs[i] = &Error{Machine: label, Field: displayPath(f.path), Message: f.msg}
	}
	return errs
}

// valueMessage words a value that breaks a rule of its node: the value
// and the node's x-message, or gojsonschema's description.
func (c *compiled) valueMessage(path []string, r gojsonschema.ResultError) string {
	s, isString := r.Value().(string)
	if isString && s == "" {
		return "must not be empty"
	}
	if msg, ok := c.messages[schemaPath(path)]; ok && isString {
		return quote(s) + " " + msg
	}
	return strings.ToLower(r.Description()[:1]) + r.Description()[1:]
}

func objectNoun(schemaPath string) string {
	switch schemaPath {
	case "":
		return "a machine"
	case "ports.*":
		return "a port"
	case "portgroups.*":
		return "a portgroup"
	}
	return schemaPath
}

func article(typ string) string {
	switch typ {
	case "object", "array", "integer":
		return "an " + typ
	case "null":
		return "null"
	}
	return "a " + typ
}

// splitField turns gojsonschema's field ("(root)", "ports.1.mac") into
// segments.
func splitField(f string) []string {
	if f == "(root)" || f == "" {
		return nil
	}
	return strings.Split(f, ".")
}

// schemaPath is a field path with its indexes as "*": "ports.*.mac".
func schemaPath(path []string) string {
	out := make([]string, len(path))
	for i, p := range path {
		if isIndex(p) {
			p = "*"
		}
		out[i] = p
	}
	return strings.Join(out, ".")
}

// displayPath writes a field path as the operator reads it: ports[1].mac.
func displayPath(path []string) string {
	var b strings.Builder
	for _, p := range path {
		switch {
		case isIndex(p):
			b.WriteString("[" + p + "]")
		case validName.MatchString(p):
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		default:
			b.WriteString("[" + quote(p) + "]")
		}
	}
	return b.String()
}

func isIndex(p string) bool {
	if p == "" {
		return false
	}
	for _, r := range p {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// lessPath orders field paths as they stand in a machine: indexes by
// number, names by the schema's order where known, else by name.
func lessPath(a, b []string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			continue
		}
		if isIndex(a[i]) && isIndex(b[i]) {
			x, _ := strconv.Atoi(a[i])
			y, _ := strconv.Atoi(b[i])
			return x < y
		}
		ra, rb := fieldRank(a[i]), fieldRank(b[i])
		if ra != rb {
			return ra < rb
		}
		return a[i] < b[i]
	}
	return len(a) < len(b)
}

// fieldOrder is the machine's fields in driver.Machine's order, for
// sorting errors as they stand in a file.
var fieldOrder = map[string]int{}

func init() {
	for i, f := range []string{"name", "driver", "driver_info", "secrets", "resource_class", "properties", "traits",
		"deploy_interface", "image", "power_state", "ports", "portgroups", "owner", "lessee",
		"mac", "pxe_enabled", "physical_network", "network", "fixed_ips", "mode"} {
		fieldOrder[f] = i + 1
	}
}

func fieldRank(f string) int {
	if r, ok := fieldOrder[f]; ok {
		return r
	}
	return len(fieldOrder) + 1
}

// Fields lists the fields of a machine, in the schema's order.
func Fields() []string {
	c, err := machineSchema()
	if err != nil {
		return nil
	}
	return slices.Clone(c.fields[""])
}
