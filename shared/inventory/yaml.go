package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	yaml "gopkg.in/yaml.v2"
)

// machinesYAML reads a YAML inventory: strictly (a key twice in one
// mapping is refused, as is a second document), then turned into the
// generic form JSON gives, so that both read the same way. yaml.v2 keeps
// no positions past parsing: errors after it name the machine and the
// field, not the line.
func machinesYAML(name string, data []byte) ([]located, error) {
	top, err := decodeYAML(name, data)
	if err != nil {
		return nil, err
	}
	return machinesOf(name, top, nil)
}

func decodeYAML(name string, data []byte) (any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.SetStrict(true)
	var raw any
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: name, Message: "is empty"}}
		}
		return nil, yamlError(name, err)
	}
	var more any
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(name, err)
		}
		return nil, Errors{{File: name, Message: "holds more than one YAML document (---): put every machine under one machines list"}}
	}
	v, err := generic(raw, nil, 0)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = name
			return nil, Errors{e}
		}
		return nil, err
	}
	return v, nil
}

// yamlLine finds yaml.v2's "line N: " in its messages.
var yamlLine = regexp.MustCompile(`line (\d+): `)

// yamlError words a yaml.v2 error with its line. yaml.v2's messages say
// which key was given twice but never a scalar's value when decoding into
// interface{}, as here.
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		errs := make(Errors, 0, len(te.Errors))
		for _, msg := range te.Errors {
			errs = append(errs, yamlMessage(name, msg))
		}
		return errs
	}
	return Errors{yamlMessage(name, strings.TrimPrefix(err.Error(), "yaml: "))}
}

func yamlMessage(name, msg string) *Error {
	e := &Error{File: name}
	if m := yamlLine.FindStringSubmatchIndex(msg); m != nil && m[0] == 0 {
		e.Line, _ = strconv.Atoi(msg[m[2]:m[3]])
		msg = msg[m[1]:]
	}
	if strings.Contains(msg, "already set in map") {
		e.Message = "a key is given twice: " + msg
	} else {
		e.Message = "is not valid YAML: " + msg
	}
	return e
}

// generic turns what yaml.v2 decoded into what encoding/json would have:
// string keys, json.Number numbers. A key that is not a string (YAML 1.1
// reads on, yes and 3 as other types), a number JSON cannot hold (.nan,
// .inf) and nesting past maxDepth are refused, naming the field.
func generic(v any, path []string, depth int) (any, error) {
	if depth > maxDepth {
		return nil, &Error{Field: displayPath(path), Message: errDepth.Error()}
	}
	switch t := v.(type) {
	case nil, string, bool:
		return t, nil
	case int:
		return json.Number(strconv.Itoa(t)), nil
	case int64:
		return json.Number(strconv.FormatInt(t, 10)), nil
	case uint64:
		return json.Number(strconv.FormatUint(t, 10)), nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, &Error{Field: displayPath(path), Message: "is not a number JSON can hold (.nan or .inf)"}
		}
		return json.Number(strconv.FormatFloat(t, 'g', -1, 64)), nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			key, ok := k.(string)
			if !ok {
				return nil, &Error{Field: displayPath(path), Message: fmt.Sprintf("key %v is %s, not a string (YAML reads on, off, yes, no and numbers as such): quote it", k, article(yamlType(k)))}
			}
			g, err := generic(val, append(path, key), depth+1)
			if err != nil {
				return nil, err
			}
			out[key] = g
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			g, err := generic(val, append(path, strconv.Itoa(i)), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = g
		}
		return out, nil
	}
	return nil, &Error{Field: displayPath(path), Message: fmt.Sprintf("holds a YAML value of type %T that JSON cannot hold", v)}
}

func yamlType(v any) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case int, int64, uint64, float64:
		return "number"
	case nil:
		return "null"
	}
	return "object"
}
