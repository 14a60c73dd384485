package client

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// APIError is a refusal or failure the API answered.
type APIError struct {
	Status    int
	Fault     string // the faultstring, or the body itself when it is not Mogan's format
	RequestID string // X-Openstack-Request-Id, "" when the answer had none
}

func (e *APIError) Error() string {
	msg := e.Fault
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.RequestID != "" {
		return fmt.Sprintf("%s (HTTP %d, request %s)", msg, e.Status, e.RequestID)
	}
	return fmt.Sprintf("%s (HTTP %d)", msg, e.Status)
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// apiError reads resp's body as Mogan's error format:
// {"error_message": "{\"faultcode\": …, \"faultstring\": …}"}. A body in
// another shape (a proxy's page) is quoted, shortened.
func apiError(resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return &APIError{Status: resp.StatusCode, Fault: faultString(body), RequestID: resp.Header.Get("X-Openstack-Request-Id")}
}

func faultString(body []byte) string {
	var outer struct {
		ErrorMessage json.RawMessage `json:"error_message"`
	}
	if err := json.Unmarshal(body, &outer); err == nil && len(outer.ErrorMessage) > 0 {
		// Upstream Mogan's error_message is a JSON document in a string;
		// some OpenStack services send the object itself.
		inner := []byte(outer.ErrorMessage)
		var s string
		if err := json.Unmarshal(inner, &s); err == nil {
			inner = []byte(s)
		}
		var fault struct {
			FaultString string `json:"faultstring"`
		}
		if err := json.Unmarshal(inner, &fault); err == nil && fault.FaultString != "" {
			return fault.FaultString
		}
		if s != "" {
			return s
		}
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	return text
}
