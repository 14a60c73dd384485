package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// CheckUTF8 refuses a body whose strings would not decode to the UTF-8
// text the client wrote: a byte that is not UTF-8, or a \u escape of a
// lone UTF-16 surrogate (\ud800 not followed by a low half, or a low half
// \udc00 alone), which names no character and which UTF-8 cannot encode.
// encoding/json would silently turn either into U+FFFD, and the host would
// store something the client never sent. The error names the field whose
// value (or, for a bad key, whose object) holds the first one.
func CheckUTF8(body []byte) error {
	if !utf8.Valid(body) {
		off := firstInvalidUTF8(body)
		if field := fieldAt(body, int64(off)); field != "" {
			return &Error{Field: field, Message: fmt.Sprintf(
				"Invalid input for field/attribute %s. Value is not valid UTF-8 (byte %d of the body).", field, off)}
		}
		return &Error{Message: fmt.Sprintf("Invalid input. The request body is not valid UTF-8 (byte %d).", off)}
	}
	off := loneSurrogate(body)
	if off < 0 {
		return nil
	}
	escape := string(body[off : off+6])
	if field := fieldAt(body, int64(off)); field != "" {
		return &Error{Field: field, Message: fmt.Sprintf(
			"Invalid input for field/attribute %s. Value holds a lone UTF-16 surrogate, %s (byte %d of the body), which is not a character.",
			field, escape, off)}
	}
	return &Error{Message: fmt.Sprintf(
		"Invalid input. The request body holds a lone UTF-16 surrogate, %s (byte %d), which is not a character.", escape, off)}
}

// loneSurrogate is the offset of the first \u escape of a surrogate that
// is not half of a pair, -1 when there is none. It reads the escapes left
// to right, so the backslash of an escaped backslash ("\\ud800", the text
// \ud800) starts no escape; outside strings valid JSON has no backslash.
func loneSurrogate(b []byte) int {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		r, ok := escapedRune(b[i:])
		if !ok {
			i++ // a one-character escape (or malformed JSON, refused later): skip its character
			continue
		}
		switch {
		case utf16.IsSurrogate(r) && r < 0xdc00: // a high half: a low one must follow
			low, ok := escapedRune(b[i+6:])
			if !ok || utf16.DecodeRune(r, low) == utf8.RuneError {
				return i
			}
			i += 11
		case utf16.IsSurrogate(r): // a low half alone
			return i
		default:
			i += 5
		}
	}
	return -1
}

// escapedRune reads a \uXXXX escape at the start of b.
func escapedRune(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[2:6]), 16, 16)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// fieldAt names the field whose JSON token covers byte off of body, as the
// schema's errors name fields ("name", "metadata.k"); a key names its
// object. It is "" when the JSON breaks before off or the byte is in a key
// of the body itself.
func fieldAt(body []byte, off int64) string {
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		covers := dec.InputOffset() > off
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if key, ok := tok.(string); ok {
				if covers {
					return top.path
				}
				top.key, top.wantKey = key, false
				continue
			}
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				stack[len(stack)-1].advance()
			}
			continue
		}
		path := ""
		switch {
		case top == nil:
		case top.object:
			path = join(top.path, top.key)
		default:
			path = join(top.path, strconv.Itoa(top.index))
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, &frame{path: path, object: d == '{', wantKey: d == '{'})
			continue
		}
		if covers {
			return path
		}
		if top != nil {
			top.advance()
		}
	}
}

// frame is an object or array fieldAt is inside.
type frame struct {
	path    string
	object  bool
	wantKey bool // in an object: the next token is a key or '}'
	key     string
	index   int
}

// advance moves the container past one complete value.
func (f *frame) advance() {
	if f.object {
		f.wantKey = true
	} else {
		f.index++
	}
}
