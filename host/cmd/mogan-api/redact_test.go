package main

import (
	"bytes"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// TestLogsLoseURLUserinfo: whatever a package or a plugin logs, a URL's
// user:password@ never reaches the log output.
func TestLogsLoseURLUserinfo(t *testing.T) {
	var out bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: redactingWriter{&out}})
	log.Warn("cannot connect", "error", `Get "http://admin:s3cret@ironic:6385/v1/nodes": refused`,
		"broker", "rabbit://guest:guestpw@127.0.0.1:5672/")
	got := out.String()
	for _, secret := range []string{"admin", "s3cret", "guest", "guestpw"} {
		if bytes.Contains(out.Bytes(), []byte(secret)) {
			t.Errorf("%q logged: %s", secret, got)
		}
	}
	for _, want := range []string{"http://ironic:6385/v1/nodes", "rabbit://127.0.0.1:5672/"} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("%q missing from %s", want, got)
		}
	}
}
