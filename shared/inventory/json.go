package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// machinesJSON reads a JSON inventory: strictly (a key twice in one object,
// nesting past maxDepth, a lone UTF-16 surrogate escape and trailing data
// are refused), numbers kept as written (json.Number), each machine's line
// noted.
func machinesJSON(name string, data []byte) ([]located, error) {
	r := &jsonReader{data: data, file: name}
	top, err := r.document()
	if err != nil {
		return nil, err
	}
	return machinesOf(name, top, r.lines)
}

// decodeJSONValue is one JSON value, read as strictly as an inventory.
func decodeJSONValue(data []byte) (any, error) {
	r := &jsonReader{data: data}
	return r.document()
}

type jsonReader struct {
	data  []byte
	file  string
	dec   *json.Decoder
	lines []int // the line each element of the top-level machines array starts on
}

func (r *jsonReader) fail(at int64, path []string, msg string) error {
	return Errors{{File: r.file, Line: lineAt(r.data, int(at)), Field: displayPath(path), Message: msg}}
}

func (r *jsonReader) document() (any, error) {
	if at, ok := loneSurrogate(r.data); ok {
		return nil, r.fail(int64(at), nil, `holds a \u escape of a lone UTF-16 surrogate, which is no character`)
	}
	r.dec = json.NewDecoder(bytes.NewReader(r.data))
	r.dec.UseNumber()
	v, err := r.value(nil, 0)
	if err != nil {
		return nil, err
	}
	if tok, err := r.dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, r.syntax(err)
		}
		return nil, r.fail(r.dec.InputOffset(), nil, fmt.Sprintf("has more after the document (%v)", tok))
	}
	return v, nil
}

// syntax words a decoder error with its line.
func (r *jsonReader) syntax(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return r.fail(se.Offset, nil, "is not valid JSON: "+se.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return r.fail(int64(len(r.data)), nil, "is not valid JSON: it ends too early")
	}
	return r.fail(r.dec.InputOffset(), nil, "is not valid JSON: "+err.Error())
}

func (r *jsonReader) value(path []string, depth int) (any, error) {
	if depth > maxDepth {
		return nil, r.fail(r.dec.InputOffset(), path, errDepth.Error())
	}
	tok, err := r.dec.Token()
	if err != nil {
		return nil, r.syntax(err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := map[string]any{}
			for r.dec.More() {
				keyTok, err := r.dec.Token()
				if err != nil {
					return nil, r.syntax(err)
				}
				key, _ := keyTok.(string)
				if _, dup := obj[key]; dup {
					return nil, r.fail(r.dec.InputOffset(), path, fmt.Sprintf("key %s is given twice", quote(key)))
				}
				v, err := r.value(append(path, key), depth+1)
				if err != nil {
					return nil, err
				}
				obj[key] = v
			}
			if _, err := r.dec.Token(); err != nil { // }
				return nil, r.syntax(err)
			}
			return obj, nil
		case '[':
			list := []any{}
			machines := len(path) == 1 && path[0] == "machines"
			for r.dec.More() {
				if machines {
					r.lines = append(r.lines, lineAt(r.data, r.nextValue()))
				}
				v, err := r.value(append(path, strconv.Itoa(len(list))), depth+1)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			if _, err := r.dec.Token(); err != nil { // ]
				return nil, r.syntax(err)
			}
			return list, nil
		}
		return nil, r.fail(r.dec.InputOffset(), path, fmt.Sprintf("is not valid JSON: unexpected %v", t))
	case string, bool, nil, json.Number:
		return t, nil
	}
	return nil, r.fail(r.dec.InputOffset(), path, fmt.Sprintf("is not valid JSON: unexpected %v", tok))
}

// nextValue is the offset where the next array element starts: past the
// whitespace and the comma the decoder has not consumed yet.
func (r *jsonReader) nextValue() int {
	at := int(r.dec.InputOffset())
	for at < len(r.data) {
		switch r.data[at] {
		case ' ', '\t', '\r', '\n', ',':
			at++
			continue
		}
		break
	}
	return at
}

// loneSurrogate finds a \u escape, in a JSON string, of a UTF-16
// surrogate that is not half of a pair: encoding/json would silently
// store U+FFFD in its place.
func loneSurrogate(data []byte) (int, bool) {
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 < len(data) && data[i+1] == 'u' {
				r, ok := hex4(data, i+2)
				if ok && r >= 0xD800 && r <= 0xDBFF {
					// a high half: a low half must follow
					if i+7 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
						if low, ok := hex4(data, i+8); ok && low >= 0xDC00 && low <= 0xDFFF {
							i += 11
							continue
						}
					}
					return i, true
				}
				if ok && r >= 0xDC00 && r <= 0xDFFF {
					return i, true
				}
				i += 5
				continue
			}
			i++ // the escaped character
		}
	}
	return 0, false
}

func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(data[at:at+4]), 16, 32)
	return rune(v), err == nil
}
