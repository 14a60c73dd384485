package inventory

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is one thing wrong with an inventory: where it is (the file, the
// line when the format gives one, the machine and the field) and what.
// It never holds a secret's value.
type Error struct {
	File string // "" for a machine checked alone (the API)
	Line int    // 0 when unknown
	// Machine names the machine: `machine "db-01"`, or `machines[3]` when
	// it has no usable name; "" for the file as a whole.
	Machine string
	// Field is the path in the machine: "ports[1].mac"; "" for the
	// machine (or the file) as a whole.
	Field   string
	Message string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Machine != "" {
		b.WriteString(e.Machine + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errors is every problem found, in the order of the file.
type Errors []*Error

// maxShown bounds how many errors Error prints; the rest are counted.
const maxShown = 50

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i == maxShown {
			fmt.Fprintf(&b, "\n… and %d more", len(es)-maxShown)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// err is nil for no errors, so that a function returning Errors as an
// error never returns a non-nil interface holding an empty list.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// machineLabel names a machine in messages: by name when it has one that
// prints plainly, else by its index in the file.
func machineLabel(name string, index int) string {
	if name != "" && len(name) <= 255 && validName.MatchString(name) {
		return fmt.Sprintf("machine %q", name)
	}
	if index < 0 {
		return "machine"
	}
	return fmt.Sprintf("machines[%d]", index)
}

// quote shows a value the operator wrote (never a secret): quoted, with
// anything unprintable escaped, cut at 80 bytes.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		cut := max
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
