package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// CheckUTF8 refuses a body that is not valid UTF-8, naming the field whose
// value (or, for a bad key, whose object) holds the first bad byte.
// encoding/json would silently turn such bytes into U+FFFD and the host
// would store something the client never sent.
func CheckUTF8(body []byte) error {
	if utf8.Valid(body) {
		return nil
	}
	off := firstInvalidUTF8(body)
	field := fieldAt(body, int64(off))
	if field == "" {
		return &Error{Message: fmt.Sprintf("Invalid input. The request body is not valid UTF-8 (byte %d).", off)}
	}
	return &Error{Field: field, Message: fmt.Sprintf(
		"Invalid input for field/attribute %s. Value is not valid UTF-8 (byte %d of the body).", field, off)}
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
