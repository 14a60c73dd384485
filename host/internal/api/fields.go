package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
)

// ?fields= on GET /v1/servers and GET /v1/servers/{uuid}, as upstream
// Mogan's get_all and get_one take it: a comma-separated list of the
// server body's fields; the answer holds those (the ones the caller may
// see) and links. Names are trimmed and lower-cased, empty ones and
// repeats dropped, as upstream's ListType reads them. A name that is no
// field is a 400 naming it (upstream drops it silently; Ironic refuses
// it).

// serverFields are the fields ?fields= may name: the server body's.
var serverFields = jsonNames(reflect.TypeFor[serverView]())

// jsonNames are the JSON names of struct type t's fields, sorted.
func jsonNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// queryFields reads ?fields=: nil when it is absent.
func queryFields(q url.Values) ([]string, error) {
	raw, err := single(q, "fields")
	if raw == "" || err != nil {
		return nil, err
	}
	var names []string
	for _, item := range strings.Split(raw, ",") {
		item = strings.TrimSpace(item)
		name := strings.ToLower(item)
		if name == "" || slices.Contains(names, name) {
			continue
		}
		if _, known := slices.BinarySearch(serverFields, name); !known {
			return nil, errorf(http.StatusBadRequest, "Invalid value for fields: %s is not a field of a server (fields: %s).",
				quoted(item), strings.Join(serverFields, ", "))
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, errorf(http.StatusBadRequest, "Invalid value for fields: no field named.")
	}
	return names, nil
}

// selectFields is the server body v with only the fields named, and
// links. A field v leaves out (fault while the server is not in error,
// system_metadata for a caller who is not admin) stays out.
func selectFields(v serverView, names []string) (map[string]json.RawMessage, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(body, &all); err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{"links": all["links"]}
	for _, name := range names {
		if raw, ok := all[name]; ok {
			out[name] = raw
		}
	}
	return out, nil
}
