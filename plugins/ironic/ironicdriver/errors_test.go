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

// Ironic's own fault messages (ironic/common/exception.py and the API's),
// as it answers them, read as the kind that says what to do.
func TestUnitClassifyIronicFaults(t *testing.T) {
	fault := func(status int, msg string) error {
		return gophercloud.ErrUnexpectedResponseCode{Actual: status,
			Body: []byte(`{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"` + msg + `\", \"debuginfo\": null}"}`)}
	}
	const n = "7de2859d-ec6d-42c7-bb86-9d630ba5ac94"
	tests := map[string]struct {
		err  error
		kind error
	}{
		"NodeProtected":                {fault(403, "Node "+n+" is protected and cannot be undeployed, rebuilt or deleted"), driver.ErrNodeProtected},
		"other 403 is the credentials": {fault(403, "Access was denied to the following resource: node"), driver.ErrUnavailable},
		"InvalidState, protected outside active": {fault(409, "Node "+n+" can only be made protected in provision states "+
			"'active' or 'rescue', the current state is 'manageable'"), driver.ErrInvalidState},
		"InvalidState, deletion":               {fault(409, `Can not delete node \\\"`+n+`\\\" while it is in provision state \\\"active\\\".`), driver.ErrInvalidState},
		"InvalidState, transition in progress": {fault(409, "Node "+n+" can not be updated while a state transition is in progress."), driver.ErrInvalidState},
		"InvalidStateRequested": {fault(400, `The requested action \\\"adopt\\\" can not be performed on node \\\"`+n+
			`\\\" while it is in state \\\"enroll\\\".`), driver.ErrInvalidState},
		"NodeLocked":         {fault(409, "Node "+n+" is locked by host localhost, please retry after the current operation is completed."), driver.ErrConflict},
		"NodeAssociated":     {fault(409, "Node "+n+" is associated with instance f978ef48-d4af-4dad-beec-e6174309bc71."), driver.ErrConflict},
		"InstanceAssociated": {fault(409, "Instance i is already associated with a node, it cannot be associated with this other node "+n), driver.ErrConflict},
		"MACAlreadyExists":   {fault(409, "A port with MAC address 52:54:00:00:00:01 already exists."), driver.ErrConflict},
		"DuplicateName":      {fault(409, "A node with name rack1-node7 already exists."), driver.ErrConflict},
		"other 400":          {fault(400, "Invalid input for field/attribute name."), driver.ErrInvalidArgument},
		"404":                {fault(404, "Node "+n+" could not be found."), driver.ErrNodeNotFound},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := classify(tc.err, "ironic", "http://ironic:6385/v1/")
			if !errors.Is(err, tc.kind) {
				t.Errorf("classify = %v, want kind %v", err, tc.kind)
			}
		})
	}
}
