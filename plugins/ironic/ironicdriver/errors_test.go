package ironicdriver

import (
	"errors"
	"net/url"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

func TestUnitFaultString(t *testing.T) {
	tests := map[string]struct{ body, want string }{
		"ironic, JSON in a string": {`{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"Node n is locked by host h\", \"debuginfo\": null}"}`, "Node n is locked by host h"},
		"ironic, object":           {`{"error_message": {"faultstring": "no such node"}}`, "no such node"},
		"keystone":                 {`{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}`, "The request you have made requires authentication."},
		"other JSON":               {`{"error": "str"}`, `{"error": "str"}`},
		"not JSON":                 {" Bad Gateway\n", "Bad Gateway"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, faultString([]byte(tc.body))); diff != "" {
				t.Errorf("faultString(%s) (-want +got):\n%s", tc.body, diff)
			}
		})
	}
}

// Keystone failures, and failures without an HTTP answer, are Unavailable;
// only a transport failure is called unreachable.
func TestUnitClassifyUnavailable(t *testing.T) {
	tests := map[string]struct {
		err  error
		want string
	}{
		"connection refused": {
			&url.Error{Op: "Get", URL: "http://k:5000/v3", Err: syscall.ECONNREFUSED},
			`keystone at http://k:5000/v3 is unreachable: Get "http://k:5000/v3": connection refused`,
		},
		"keystone without its API": {
			gophercloud.ErrUnexpectedResponseCode{Actual: 404, Body: []byte(`{"error": {"code": 404, "message": "The resource could not be found.", "title": "Not Found"}}`)},
			"keystone at http://k:5000/v3 answered 404: The resource could not be found.",
		},
		"incomplete options": {
			gophercloud.ErrScopeDomainIDOrDomainName{},
			"keystone at http://k:5000/v3: You must provide exactly one of DomainID or DomainName in a Scope with ProjectName",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := classify(tc.err, "keystone", "http://k:5000/v3")
			if !errors.Is(err, driver.ErrUnavailable) {
				t.Errorf("err = %v, want ErrUnavailable", err)
			}
			var de *driver.Error
			if errors.As(err, &de) {
				if diff := cmp.Diff(tc.want, de.Message); diff != "" {
					t.Errorf("message (-want +got):\n%s", diff)
				}
			}
		})
	}
}
