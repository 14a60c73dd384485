package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// Format is the form of an inventory file.
type Format string

const (
	YAML Format = "yaml"
	JSON Format = "json"
	CSV  Format = "csv"
)

// Limits on what a file may hold, so that a hostile or mistaken one is
// refused before it costs much.
const (
	// MaxFileSize is the largest inventory read: 16 MiB is some 20,000
	// machines described in full.
	MaxFileSize = 16 << 20
	// maxDepth bounds nesting: a machine needs 4 levels inside the file's
	// 2; driver_info and properties may nest a little more.
	maxDepth = 32
)

// ReadFile reads an inventory file (see Parse).
func ReadFile(path string) ([]driver.Machine, error) {
	data, err := readLimited(path, MaxFileSize)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, Errors{{File: path, Message: fmt.Sprintf("larger than %d MiB: split the inventory", limit>>20)}}
	}
	return data, nil
}

// Parse reads an inventory: {"machines": [ … ]} in YAML or JSON, or CSV
// with a header row (see csv.go). The format is told by the content (a
// JSON document starts with '{', a CSV file with its header row) and
// otherwise by name's extension; name is used in errors. Every machine is
// checked against the schema and the rules no schema can say, and no two
// may have the same name. The errors, an Errors, name the file, the line
// where the format gives one, the machine and the field.
func Parse(name string, data []byte) ([]driver.Machine, error) {
	data, err := clean(name, data)
	if err != nil {
		return nil, err
	}
	return ParseFormat(name, data, Detect(name, data))
}

// ParseFormat is Parse for a format already known.
func ParseFormat(name string, data []byte, f Format) ([]driver.Machine, error) {
	data, err := clean(name, data)
	if err != nil {
		return nil, err
	}
	var docs []located
	switch f {
	case JSON:
		docs, err = machinesJSON(name, data)
	case YAML:
		docs, err = machinesYAML(name, data)
	case CSV:
		docs, err = machinesCSV(name, data)
	default:
		return nil, fmt.Errorf("unknown inventory format %q: yaml, json or csv", f)
	}
	if err != nil {
		return nil, err
	}
	return checkAll(name, docs)
}

// located is one machine of a file in the generic form, with the line it
// starts on (0: unknown) and the errors found reading it.
type located struct {
	doc  any
	line int
	errs Errors
}

// checkAll checks every machine and their names together.
func checkAll(file string, docs []located) ([]driver.Machine, error) {
	var errs Errors
	machines := make([]driver.Machine, 0, len(docs))
	names := map[string]int{} // lower-cased name → index
	for i, d := range docs {
		label := machineLabel(stringField(d.doc, "name"), i)
		var mErrs Errors
		var m driver.Machine
		if d.errs != nil {
			mErrs = d.errs
		} else {
			m, mErrs = checkMachine(d.doc, i)
		}
		if m.Name != "" {
			key := strings.ToLower(m.Name)
			if j, ok := names[key]; ok {
				how := ""
				if docs[j].doc != nil && stringField(docs[j].doc, "name") != m.Name {
					how = " (it differs only in case, which some Ironic databases ignore)"
				}
				mErrs = append(mErrs, &Error{Field: "name", Message: fmt.Sprintf("%s is also machines[%d]'s name%s%s", quote(m.Name), j, lineOf(docs[j].line), how)})
			} else {
				names[key] = i
			}
		}
		for _, e := range mErrs {
			e.File, e.Line = file, d.line
			if e.Machine == "" {
				e.Machine = label
			}
		}
		errs = append(errs, mErrs...)
		machines = append(machines, m)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return machines, nil
}

func lineOf(line int) string {
	if line <= 0 {
		return ""
	}
	return fmt.Sprintf(" (line %d)", line)
}

// Detect tells an inventory's format: CSV when its first row is a header
// of inventory columns, whatever the name; else by the name's extension
// (.csv, .json, .yaml or .yml); else JSON when it starts with '{' or '[',
// and YAML otherwise.
func Detect(name string, data []byte) Format {
	data = bytes.TrimPrefix(data, utf8BOM)
	if looksLikeCSVHeader(data) {
		return CSV
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return CSV
	case ".json":
		return JSON
	case ".yaml", ".yml":
		return YAML
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return JSON
	}
	return YAML
}

var (
	utf8BOM  = []byte{0xEF, 0xBB, 0xBF}
	utf16BOM = [][]byte{{0xFE, 0xFF}, {0xFF, 0xFE}}
)

// clean refuses what no format here can hold — not UTF-8, UTF-16, a NUL,
// too large — and takes off a UTF-8 byte order mark (spreadsheets write
// one).
func clean(name string, data []byte) ([]byte, error) {
	if len(data) > MaxFileSize {
		return nil, Errors{{File: name, Message: fmt.Sprintf("larger than %d MiB: split the inventory", MaxFileSize>>20)}}
	}
	for _, bom := range utf16BOM {
		if bytes.HasPrefix(data, bom) {
			return nil, Errors{{File: name, Message: "is UTF-16: save it as UTF-8"}}
		}
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if !utf8.Valid(data) {
		at := 0
		for at < len(data) {
			r, size := utf8.DecodeRune(data[at:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			at += size
		}
		return nil, Errors{{File: name, Line: lineAt(data, at), Message: "is not valid UTF-8: save it as UTF-8"}}
	}
	if at := bytes.IndexByte(data, 0); at >= 0 {
		return nil, Errors{{File: name, Line: lineAt(data, at), Message: "holds a NUL character"}}
	}
	return data, nil
}

// lineAt is the 1-based line of byte offset at.
func lineAt(data []byte, at int) int {
	if at > len(data) {
		at = len(data)
	}
	return bytes.Count(data[:at], []byte{'\n'}) + 1
}

// machinesOf takes the machines out of a file's top level, which must be
// {"machines": [ … ]} and nothing else.
func machinesOf(name string, top any, lines []int) ([]located, error) {
	obj, ok := top.(map[string]any)
	if !ok {
		return nil, Errors{{File: name, Message: `must be {"machines": [ … ]}, not ` + article(typeName(top))}}
	}
	for k := range obj {
		if k != "machines" {
			return nil, Errors{{File: name, Field: displayPath([]string{k}), Message: `unknown key: an inventory is {"machines": [ … ]}`}}
		}
	}
	raw, ok := obj["machines"]
	if !ok {
		return nil, Errors{{File: name, Message: `has no machines: an inventory is {"machines": [ … ]}`}}
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, Errors{{File: name, Field: "machines", Message: "must be " + article("array") + ", not " + article(typeName(raw))}}
	}
	out := make([]located, len(list))
	for i, m := range list {
		out[i] = located{doc: m}
		if i < len(lines) {
			out[i].line = lines[i]
		}
	}
	return out, nil
}

// typeName is the JSON type of a generic value.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	return "number"
}

// errDepth is nesting deeper than maxDepth.
var errDepth = errors.New("nested deeper than any inventory needs")
