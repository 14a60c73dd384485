package inventory

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	yaml "gopkg.in/yaml.v2"
)

// Secret is the value of a secret driver_info field. Printed with any
// fmt verb it is ******; encoding/json writes it as the string it is, for
// the one request that must carry it.
type Secret string

// Format masks the value whatever the verb (%v, %s, %q, %x, %#v, …).
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, ironicMask) }

// Wildcard is the secrets file's entry for every machine.
const Wildcard = "*"

// maxSecretsSize bounds a secrets file.
const maxSecretsSize = 1 << 20

// Secrets is a secrets file: for each machine name (or "*", every
// machine) the values of its secret driver_info fields. Neither String,
// any fmt verb nor any error of it shows a value.
type Secrets struct {
	file    string
	entries map[string]map[string]Secret
}

// String names the file and its entries, never a value.
func (s Secrets) String() string {
	names := s.Names()
	return fmt.Sprintf("secrets file %s (%d entries: %s)", s.file, len(names), strings.Join(names, ", "))
}

// Format prints String whatever the verb: fmt would otherwise print the
// unexported values with %d and the like.
func (s Secrets) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LoadSecrets reads a secrets file, refusing one that its group or others
// may read or write (mode & 0o077): a secrets file is chmod 600.
func LoadSecrets(path string) (*Secrets, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, Errors{{File: path, Message: fmt.Sprintf("may be read by others than its owner (mode %04o): a secrets file must not be; run: chmod 600 %s", perm, path)}}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretsSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxSecretsSize {
		return nil, Errors{{File: path, Message: fmt.Sprintf("larger than %d MiB: not a secrets file", maxSecretsSize>>20)}}
	}
	return ParseSecrets(path, data)
}

// ParseSecrets reads a secrets file's YAML:
//
//	"db-01": {ipmi_password: …}
//	"*": {ipmi_password: …}
//
// Each value is taken as written (0123 stays "0123": YAML would read it
// as a number), and must not be empty. name is used in errors.
func ParseSecrets(name string, data []byte) (*Secrets, error) {
	data, err := clean(name, data)
	if err != nil {
		return nil, err
	}
	// First the shape, decoded as YAML types: yaml.v2 words a mistake of
	// shape with the value when the target is typed, never when it is
	// interface{}.
	top, err := decodeYAML(name, data)
	if err != nil {
		var es Errors
		if errors.As(err, &es) && len(es) > 0 && es[0].Message == "is empty" {
			return &Secrets{file: name, entries: map[string]map[string]Secret{}}, nil
		}
		return nil, err
	}
	obj, ok := top.(map[string]any)
	if !ok {
		return nil, Errors{{File: name, Message: `must be a mapping of machine names (or "*") to {field: value}`}}
	}
	var errs Errors
	for _, machine := range sortedKeys(obj) {
		label := entryLabel(machine)
		fields, ok := obj[machine].(map[string]any)
		if !ok {
			errs = append(errs, &Error{File: name, Machine: label, Message: "must be a mapping of driver_info fields to their values"})
			continue
		}
		for _, field := range sortedKeys(fields) {
			switch v := fields[field].(type) {
			case nil:
				errs = append(errs, &Error{File: name, Machine: label, Field: field, Message: "has no value"})
			case map[string]any, []any:
				errs = append(errs, &Error{File: name, Machine: label, Field: field, Message: "must be one value, not " + article(typeName(v))})
			case string:
				if v == "" {
					errs = append(errs, &Error{File: name, Machine: label, Field: field, Message: "is empty"})
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	// Then the values as written.
	var raw map[string]map[string]string
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, Errors{{File: name, Message: "cannot be read as machine: {field: value}"}}
	}
	s := &Secrets{file: name, entries: make(map[string]map[string]Secret, len(raw))}
	for machine, fields := range raw {
		entry := make(map[string]Secret, len(fields))
		for k, v := range fields {
			entry[k] = Secret(v)
		}
		s.entries[machine] = entry
	}
	return s, nil
}

func entryLabel(machine string) string {
	if machine == Wildcard {
		return `entry "*"`
	}
	return "machine " + quote(machine)
}

// Names lists the file's entries, sorted ("*" among them).
func (s Secrets) Names() []string {
	names := make([]string, 0, len(s.entries))
	for n := range s.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// File is the file's name.
func (s *Secrets) File() string {
	if s == nil {
		return ""
	}
	return s.file
}

// Entry is every value given for machine: its own entry over "*".
func (s *Secrets) Entry(machine string) map[string]Secret {
	out := map[string]Secret{}
	if s == nil {
		return out
	}
	for k, v := range s.entries[Wildcard] {
		out[k] = v
	}
	for k, v := range s.entries[machine] {
		out[k] = v
	}
	return out
}

// For resolves the fields a machine names in its secrets: each from the
// machine's own entry, else from "*". A field with no value is an error
// naming the machine and the field; a nil Secrets (no file) has none.
func (s *Secrets) For(machine string, fields []string) (map[string]Secret, error) {
	if len(fields) == 0 {
		return nil, nil
	}
	entry := s.Entry(machine)
	out := make(map[string]Secret, len(fields))
	var errs Errors
	for i, f := range fields {
		v, ok := entry[f]
		if !ok {
			where := "no secrets file was given"
			if s != nil {
				where = fmt.Sprintf("%s gives it neither under %s nor under \"*\"", s.file, quote(machine))
			}
			errs = append(errs, &Error{Machine: machineLabel(machine, -1), Field: fmt.Sprintf("secrets[%d]", i),
				Message: fmt.Sprintf("%s has no value: %s", quote(f), where)})
			continue
		}
		out[f] = v
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// CheckNames refuses an entry that names no machine of names (a typo
// would otherwise leave that machine without its secrets).
func (s *Secrets) CheckNames(names []string, what string) error {
	if s == nil {
		return nil
	}
	known := make(map[string]bool, len(names))
	for _, n := range names {
		known[n] = true
	}
	var errs Errors
	for _, n := range s.Names() {
		if n != Wildcard && !known[n] {
			errs = append(errs, &Error{File: s.file, Machine: entryLabel(n), Message: "no machine of that name " + what + " (a typo?)"})
		}
	}
	return errs.err()
}

// HasValue says whether the file gives any value for machine (its own or "*").
func (s *Secrets) HasValue(machine string) bool {
	return s != nil && (len(s.entries[machine]) > 0 || len(s.entries[Wildcard]) > 0)
}
