package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/spf13/cobra"
)

// format is the -f flag: table (for people) or json (for scripts).
type format string

const (
	formatTable format = "table"
	formatJSON  format = "json"
)

func (f *format) String() string { return string(*f) }
func (f *format) Type() string   { return "table|json" }
func (f *format) Set(s string) error {
	switch format(s) {
	case formatTable, formatJSON:
		*f = format(s)
		return nil
	}
	return fmt.Errorf("must be table or json, not %q", s)
}

func addFormatFlag(cmd *cobra.Command, f *format) {
	*f = formatTable
	cmd.Flags().VarP(f, "format", "f", "output format: table or json")
}

// writeJSON prints v indented, as scripts and people can both read it.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeTable prints rows under header, ASCII-boxed like the OpenStack
// client's tables.
func writeTable(w io.Writer, header []string, rows [][]string) {
	t := table.NewWriter()
	t.SetOutputMirror(w)
	t.SetStyle(table.StyleDefault)
	h := make(table.Row, len(header))
	for i, s := range header {
		h[i] = s
	}
	t.AppendHeader(h, table.RowConfig{AutoMerge: false})
	for _, r := range rows {
		row := make(table.Row, len(r))
		for i, s := range r {
			row[i] = s
		}
		t.AppendRow(row)
	}
	t.Render()
}

// writeFields prints one object as a Field | Value table, keys sorted;
// objects and lists as compact JSON.
func writeFields(w io.Writer, obj map[string]any) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows := make([][]string, len(keys))
	for i, k := range keys {
		rows[i] = []string{k, cell(obj[k])}
	}
	writeTable(w, []string{"Field", "Value"}, rows)
}

// cell renders a JSON value for a table: null as empty, strings bare,
// the rest as JSON.
func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(b))
}

// field is cell of obj[key].
func field(obj map[string]any, key string) string { return cell(obj[key]) }

// printf writes to the terminal or pipe; a write that fails there (a
// closed pipe) has nowhere better to be reported.
func printf(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}
