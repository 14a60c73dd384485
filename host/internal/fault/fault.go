// Package fault is the body of every error the API answers, upstream
// Mogan's and Ironic's: the WSME fault, JSON-encoded inside error_message,
// spelled byte for byte as their json.dumps spells it. The API's handlers
// and the connection layer (a request header that never arrived whole)
// answer with it.
package fault

import "encoding/json"

// ContentType is the Content-Type of an error: python-moganclient reads
// error_message only from application/json.
const ContentType = "application/json"

// Body is the error document of status with message: faultcode "Client"
// below 500, "Server" from it.
func Body(status int, message string) []byte {
	code := "Server"
	if status < 500 {
		code = "Client"
	}
	document := `{"faultcode": ` + quote(code) + `, "faultstring": ` + quote(message) + `, "debuginfo": null}`
	return []byte(`{"error_message": ` + quote(document) + `}`)
}

// quote is s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}
