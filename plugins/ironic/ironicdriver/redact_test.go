package ironicdriver

import (
	"errors"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
)

// A url or auth_url carrying user:password@ never shows in an error.
func TestUnitClassifyRedactsUserinfo(t *testing.T) {
	const endpoint = "http://ironic:s3cret@127.0.0.1:6385/v1/"
	tests := map[string]error{
		"unreachable": &url.Error{Op: "Get", URL: endpoint + "nodes", Err: syscall.ECONNREFUSED},
		"5xx":         gophercloud.ErrUnexpectedResponseCode{Actual: 503, Body: []byte("down")},
		"other":       errors.New("odd answer from " + endpoint),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			err := classify(in, "ironic", endpoint)
			if msg := err.Error(); strings.Contains(msg, "s3cret") || strings.Contains(msg, "ironic:") ||
				!strings.Contains(msg, "127.0.0.1:6385") {
				t.Errorf("classify(%v) = %q, want the URL without its userinfo", in, msg)
			}
		})
	}
}
