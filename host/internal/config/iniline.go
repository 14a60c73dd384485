package config

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/ini.v1"
)

// malformed turns the INI parser's error into one naming the line at
// fault. The parser does not count lines, so the line is found as the
// shortest head of the file that fails in the same way: the parser reads
// the file in order and stops at the first bad line, so that head ends
// with it. (A file is a few hundred lines: parsing its heads costs
// nothing next to starting the host, and only on this error.)
func malformed(path string, data []byte, opts ini.LoadOptions, err error) *Error {
	problem := "malformed INI: " + describeINIError(err)
	lines := bytes.SplitAfter(data, []byte("\n"))
	for n := 1; n <= len(lines); n++ {
		_, headErr := ini.LoadSources(opts, bytes.Join(lines[:n], nil))
		if headErr != nil && headErr.Error() == err.Error() {
			return &Error{File: path, Problem: fmt.Sprintf("line %d: %s", n, problem)}
		}
	}
	return &Error{File: path, Problem: problem}
}

// describeINIError says what is wrong with the line without quoting it,
// as the parser does: the line may hold a password (its "=" forgotten),
// and the line number says enough.
func describeINIError(err error) string {
	msg := err.Error()
	switch {
	case ini.IsErrDelimiterNotFound(err):
		return `expected "option = value", "[section]" or a comment (# or ;)`
	case ini.IsErrEmptyKeyName(err):
		return `an option without a name (nothing before "=")`
	case strings.HasPrefix(msg, "unclosed section"):
		return `a section header without its closing "]"`
	case strings.HasPrefix(msg, "missing closing key quote"):
		return "a quote that is never closed"
	}
	return strings.TrimSpace(msg)
}
