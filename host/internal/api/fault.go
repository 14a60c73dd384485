package api

import (
	"encoding/json"
	"net/http"
)

// fault is the WSME fault document Mogan and Ironic return. It travels
// JSON-encoded inside error_message, as upstream does.
type fault struct {
	FaultCode   string  `json:"faultcode"`
	FaultString string  `json:"faultstring"`
	DebugInfo   *string `json:"debuginfo"`
}

type errorBody struct {
	ErrorMessage string `json:"error_message"`
}

// writeFault answers status with message in Mogan's error format.
func writeFault(w http.ResponseWriter, status int, message string) {
	code := "Server"
	if status < 500 {
		code = "Client"
	}
	inner, err := json.Marshal(fault{FaultCode: code, FaultString: message})
	if err != nil { // a struct of strings always marshals
		inner = []byte(`{"faultcode": "Server", "faultstring": "internal error", "debuginfo": null}`)
	}
	writeJSON(w, status, errorBody{ErrorMessage: string(inner)})
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error_message": "{\"faultcode\": \"Server\", \"faultstring\": \"cannot encode the response\", \"debuginfo\": null}"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may be gone; nothing to do then
}
