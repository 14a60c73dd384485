package api

import (
	"encoding/json"
	"net/http"

	"github.com/mogan-manage/mogan-manage/host/internal/fault"
)

// writeFault answers status with message in Mogan's error format.
func writeFault(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", fault.ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(fault.Body(status, message))
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = fault.Body(status, "cannot encode the response")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may be gone; nothing to do then
}
