package inventory

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Columns are the CSV form's columns, in the order export writes them
// (DESIGN, "The machine description"). A file may have them in any order
// and leave out any but name and driver. Lists are ;-separated and
// driver_info is k=v;k=v, each item quoted as CSV quotes a cell when it
// holds a ; (inside a cell that is itself quoted, the quotes double):
// "driver_info=""a;b""" is not needed for '=', as a key ends at the first.
// Each MAC becomes a port on the network column's network; fixed_ips pair
// with the MACs in order (an empty item: that port has none).
var Columns = []string{"name", "driver", "driver_info", "secrets", "resource_class", "image", "power_state", "macs", "network", "fixed_ips", "traits"}

// looksLikeCSVHeader says whether the first line that is not blank or a
// # comment is a header of inventory columns: commas, no colon, and a name
// or driver column.
func looksLikeCSVHeader(data []byte) bool {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if bytes.IndexByte(line, ',') < 0 || bytes.IndexByte(line, ':') >= 0 {
			return false
		}
		for _, cell := range strings.Split(string(line), ",") {
			cell = strings.ToLower(strings.Trim(strings.TrimSpace(cell), `"`))
			if cell == "name" || cell == "driver" {
				return true
			}
		}
		return false
	}
	return false
}

// machinesCSV reads the CSV form: a header row naming the columns, then
// one row per machine; # starts a comment line; rows of empty cells are
// skipped. Every value is a string, numbers too: Ironic's driver_info
// holds strings.
func machinesCSV(name string, data []byte) ([]located, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, Errors{{File: name, Message: "is empty: a CSV inventory starts with a header row: " + strings.Join(Columns, ",")}}
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	headerLine, _ := r.FieldPos(0)
	cols, err := csvColumns(header)
	if err != nil {
		return nil, Errors{{File: name, Line: headerLine, Message: err.Error()}}
	}
	var out []located
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := r.FieldPos(0)
		if allEmpty(rec) {
			continue
		}
		index := len(out)
		if len(rec) != len(cols) {
			label := machineLabel(strings.TrimSpace(rec[0]), index)
			out = append(out, located{line: line, errs: Errors{{Machine: label, Message: fmt.Sprintf("has %d cells; the header has %d columns", len(rec), len(cols))}}})
			continue
		}
		doc, errs := csvMachine(cols, rec)
		if errs != nil {
			label := machineLabel(stringField(doc, "name"), index)
			for _, e := range errs {
				e.Machine = label
			}
		}
		out = append(out, located{doc: doc, line: line, errs: errs})
	}
	return out, nil
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return Errors{{File: name, Line: pe.Line, Message: "is not valid CSV: " + pe.Err.Error()}}
	}
	return Errors{{File: name, Message: "is not valid CSV: " + err.Error()}}
}

// csvColumns checks the header: known columns, each once, name and driver
// among them.
func csvColumns(header []string) ([]string, error) {
	cols := make([]string, len(header))
	var unknown []string
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		cols[i] = h
		switch {
		case !slices.Contains(Columns, h):
			unknown = append(unknown, quote(h))
		case slices.Index(cols, h) < i:
			return nil, fmt.Errorf("column %s is given twice", quote(h))
		}
	}
	if len(unknown) > 0 {
		noun := "column"
		if len(unknown) > 1 {
			noun = "columns"
		}
		return nil, fmt.Errorf("unknown %s %s; the columns are %s (portgroups, properties and the rest need the YAML or JSON form)",
			noun, strings.Join(unknown, ", "), strings.Join(Columns, ", "))
	}
	for _, need := range []string{"name", "driver"} {
		if !slices.Contains(cols, need) {
			return nil, fmt.Errorf("has no %s column; the columns are %s", need, strings.Join(Columns, ", "))
		}
	}
	return cols, nil
}

func allEmpty(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// csvMachine is one row in the generic form, or what is wrong with it.
// No message quotes a driver_info item: one may be a password put in the
// wrong column.
func csvMachine(cols, rec []string) (map[string]any, Errors) {
	doc := map[string]any{}
	var errs Errors
	fail := func(field, format string, args ...any) {
		errs = append(errs, &Error{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	cell := map[string]string{}
	for i, c := range cols {
		cell[c] = strings.TrimSpace(rec[i])
	}
	for _, c := range []string{"name", "driver", "resource_class", "image", "power_state"} {
		if v := cell[c]; v != "" {
			doc[c] = v
		}
	}
	if items, err := splitList(cell["driver_info"]); err != nil {
		fail("driver_info", "%v", err)
	} else if len(items) > 0 {
		info := map[string]any{}
		for i, item := range items {
			k, v, ok := strings.Cut(item, "=")
			k = strings.TrimSpace(k)
			switch {
			case !ok || k == "":
				fail("driver_info", "item %d is not key=value", i+1)
				continue
			case info[k] != nil:
				fail("driver_info", "key %s is given twice", quote(k))
				continue
			}
			info[k] = strings.TrimSpace(v)
		}
		doc["driver_info"] = info
	}
	for _, c := range []string{"secrets", "traits"} {
		items, err := splitList(cell[c])
		if err != nil {
			fail(c, "%v", err)
			continue
		}
		if len(items) > 0 {
			doc[c] = anys(items)
		}
	}
	macs, err := splitList(cell["macs"])
	if err != nil {
		fail("macs", "%v", err)
	}
	ips, err := splitList(cell["fixed_ips"])
	if err != nil {
		fail("fixed_ips", "%v", err)
	}
	network := cell["network"]
	switch {
	case len(ips) > len(macs):
		fail("fixed_ips", "%d addresses for %d MACs: they pair with the macs in order, one each", len(ips), len(macs))
	case network != "" && len(macs) == 0:
		fail("network", "no macs to put on it")
	}
	if len(macs) > 0 {
		ports := make([]any, len(macs))
		for i, mac := range macs {
			if mac == "" {
				fail("macs", "item %d is empty", i+1)
			}
			port := map[string]any{"mac": mac}
			if network != "" {
				port["network"] = network
			}
			if i < len(ips) && ips[i] != "" {
				port["fixed_ips"] = []any{ips[i]}
			}
			ports[i] = port
		}
		doc["ports"] = ports
	}
	return doc, errs
}

func anys(items []string) []any {
	out := make([]any, len(items))
	for i, s := range items {
		out[i] = s
	}
	return out
}

// splitList reads a ;-separated cell as CSV reads a row: an item holding
// a ; is quoted. A trailing ; adds nothing.
func splitList(cell string) ([]string, error) {
	if strings.TrimSpace(cell) == "" {
		return nil, nil
	}
	r := csv.NewReader(strings.NewReader(cell))
	r.Comma = ';'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	items, err := r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("is not a ;-separated list: %w", err)
	}
	if _, err := r.Read(); !errors.Is(err, io.EOF) {
		return nil, errors.New("is not a ;-separated list: it holds a line break")
	}
	for i := range items {
		items[i] = strings.TrimSpace(items[i])
	}
	if n := len(items); n > 1 && items[n-1] == "" {
		items = items[:n-1]
	}
	return items, nil
}

// joinList writes items as one ;-separated cell that splitList reads back.
func joinList(items []string) (string, error) {
	if len(items) == 0 {
		return "", nil
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Comma = ';'
	if err := w.Write(items); err != nil {
		return "", err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return "", err
	}
	return strings.TrimSuffix(strings.TrimSuffix(b.String(), "\n"), "\r"), nil
}
