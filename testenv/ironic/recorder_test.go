package ironic

import (
	"testing"

	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

func TestUnitRecorderForbidden(t *testing.T) {
	const node = "/v1/nodes/7de2859d-ec6d-42c7-bb86-9d630ba5ac94"
	provision := func(target string) drivertest.BackendRequest {
		return drivertest.BackendRequest{Method: "PUT", Path: node + "/states/provision", Body: []byte(`{"target": "` + target + `"}`)}
	}
	tests := map[string]struct {
		req        drivertest.BackendRequest
		forbidden  bool
		transition bool
	}{
		"read a node":          {drivertest.BackendRequest{Method: "GET", Path: node}, false, false},
		"read its power":       {drivertest.BackendRequest{Method: "GET", Path: node + "/states"}, false, false},
		"create a node":        {drivertest.BackendRequest{Method: "POST", Path: "/v1/nodes"}, false, false},
		"create a port":        {drivertest.BackendRequest{Method: "POST", Path: "/v1/ports"}, false, false},
		"patch a node":         {drivertest.BackendRequest{Method: "PATCH", Path: node}, false, false},
		"delete a node":        {drivertest.BackendRequest{Method: "DELETE", Path: node}, false, false},
		"set traits":           {drivertest.BackendRequest{Method: "PUT", Path: node + "/traits"}, false, false},
		"maintenance on":       {drivertest.BackendRequest{Method: "PUT", Path: node + "/maintenance"}, false, false},
		"maintenance off":      {drivertest.BackendRequest{Method: "DELETE", Path: node + "/maintenance"}, false, false},
		"manage":               {provision("manage"), false, true},
		"adopt":                {provision("adopt"), false, true},
		"provide":              {provision("provide"), true, true},
		"deploy":               {provision("active"), true, true},
		"rebuild":              {provision("rebuild"), true, true},
		"undeploy":             {provision("deleted"), true, true},
		"clean":                {provision("clean"), true, true},
		"rescue":               {provision("rescue"), true, true},
		"inspect":              {provision("inspect"), true, true},
		"power":                {drivertest.BackendRequest{Method: "PUT", Path: node + "/states/power", Body: []byte(`{"target": "power off"}`)}, true, false},
		"boot device":          {drivertest.BackendRequest{Method: "PUT", Path: node + "/management/boot_device"}, true, false},
		"vif attach":           {drivertest.BackendRequest{Method: "POST", Path: node + "/vifs"}, true, false},
		"no body on provision": {drivertest.BackendRequest{Method: "PUT", Path: node + "/states/provision"}, true, true},
	}
	r := &Recorder{}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := r.Forbidden(tc.req) != ""; got != tc.forbidden {
				t.Errorf("Forbidden(%s %s) = %q, want forbidden %v", tc.req, tc.req.Body, r.Forbidden(tc.req), tc.forbidden)
			}
			if got := r.Transition(tc.req); got != tc.transition {
				t.Errorf("Transition(%s) = %v, want %v", tc.req, got, tc.transition)
			}
		})
	}
}
