package api

import (
	"encoding/json"
	"net/http"
)

// writeFault answers status with message in Mogan's error format.
func writeFault(w http.ResponseWriter, status int, message string) {
	code := "Server"
	if status < 500 {
		code = "Client"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error_message": ` + quote(faultDocument(code, message)) + `}`))
}

// faultDocument is the WSME fault Mogan and Ironic return, JSON-encoded
// inside error_message, spelled byte for byte as upstream's json.dumps
// spells it.
func faultDocument(code, message string) string {
	return `{"faultcode": ` + quote(code) + `, "faultstring": ` + quote(message) + `, "debuginfo": null}`
}

// quote is s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
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
