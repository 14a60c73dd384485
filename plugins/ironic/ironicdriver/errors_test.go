package ironicdriver

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFaultString(t *testing.T) {
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
