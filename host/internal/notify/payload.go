package notify

import (
	"bytes"
	"encoding/json"
	"maps"
)

// VersionedObject is oslo.versionedobjects' primitive form, the shape of
// Mogan's notification payloads. Field order is upstream's.
type VersionedObject struct {
	Name      string `json:"mogan_object.name"`
	Namespace string `json:"mogan_object.namespace"`
	Version   string `json:"mogan_object.version"`
	Data      any    `json:"mogan_object.data"`
}

// NewServerActionPayload wraps a server's fields as Mogan's
// ServerActionPayload 1.0. data is a map or a struct with JSON tags; a
// map without "fault" gets "fault": null, as upstream always sends the
// key (give a struct a field Fault *Fault with the tag json:"fault").
func NewServerActionPayload(data any) VersionedObject {
	if m, ok := data.(map[string]any); ok {
		if _, has := m["fault"]; !has {
			m = maps.Clone(m)
			m["fault"] = nil
		}
		data = m
	}
	return VersionedObject{
		Name:      "ServerActionPayload",
		Namespace: "mogan",
		Version:   "1.0",
		Data:      data,
	}
}

// Fault is what went wrong, for .error events. It is sent as upstream's
// ExceptionPayload 1.0 versioned object.
type Fault struct {
	Exception        string // the error's class, e.g. "NodeNotManageable"
	ExceptionMessage string
	ModuleName       string // upstream: the raising module; "unknown" when empty
	FunctionName     string // upstream: the raising function; "unknown" when empty
}

// MarshalJSON encodes f as ExceptionPayload 1.0.
func (f Fault) MarshalJSON() ([]byte, error) {
	orUnknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	var buf bytes.Buffer
	err := writeJSON(&buf, object{
		{"mogan_object.name", "ExceptionPayload"},
		{"mogan_object.namespace", "mogan"},
		{"mogan_object.version", "1.0"},
		{"mogan_object.data", object{
			{"module_name", orUnknown(f.ModuleName)},
			{"function_name", orUnknown(f.FunctionName)},
			{"exception", f.Exception},
			{"exception_message", f.ExceptionMessage},
		}},
	})
	return buf.Bytes(), err
}

var _ json.Marshaler = Fault{}

// NewMigrationPayload wraps a migration's fields as this project's
// MigrationPayload 1.0, in the envelope of the adoptions' notifications;
// a map without "fault" gets "fault": null, as ServerActionPayload does.
func NewMigrationPayload(data map[string]any) VersionedObject {
	if _, has := data["fault"]; !has {
		data = maps.Clone(data)
		data["fault"] = nil
	}
	return VersionedObject{Name: "MigrationPayload", Namespace: "mogan", Version: "1.0", Data: data}
}
