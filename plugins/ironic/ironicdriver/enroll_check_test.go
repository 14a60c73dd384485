package ironicdriver

import (
	"errors"
	"strings"
	"testing"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// TestCheckEnroll: what EnrollNode's first call would refuse is refused
// the same way, creating nothing; a machine Ironic would take passes.
func TestCheckEnroll(t *testing.T) {
	fixture := fixtureOf(t, ironic.KindAdoptable)[0]
	tests := map[string]struct {
		change   func(*driver.EnrollRequest)
		kind     error
		contains []string
	}{
		"free": {change: func(*driver.EnrollRequest) {}},
		"a MAC already in Ironic": {
			change: func(r *driver.EnrollRequest) { r.Machine.Ports[0].MAC = fixture.Ports[0].Address },
			kind:   driver.ErrConflict, contains: []string{fixture.Ports[0].Address, "already exists"},
		},
		"a name already used": {
			change: func(r *driver.EnrollRequest) { r.Machine.Name = fixture.Name },
			kind:   driver.ErrConflict, contains: []string{fixture.Name, "already exists"},
		},
		"a node uuid already used": {
			change: func(r *driver.EnrollRequest) { r.NodeUUID = fixture.UUID },
			kind:   driver.ErrConflict, contains: []string{fixture.UUID, "already exists"},
		},
		"a missing secret": {
			change: func(r *driver.EnrollRequest) { delete(r.Secrets, "fake_community") },
			kind:   driver.ErrInvalidArgument, contains: []string{"fake_community"},
		},
	}
	d := newTestDriver(t)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req := enrollRequest()
			req.MigrationID = "" // a dry run has none yet
			tc.change(&req)
			err := d.CheckEnroll(t.Context(), req)
			switch {
			case tc.kind == nil && err != nil:
				t.Fatalf("CheckEnroll = %v, want nil", err)
			case tc.kind != nil && !errors.Is(err, tc.kind):
				t.Fatalf("CheckEnroll = %v, want kind %v", err, tc.kind)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("CheckEnroll = %q; want it to say %q", err, s)
				}
			}
			sc, err := d.serviceClient(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if exists, _ := getEnrollNode(t.Context(), sc, req.NodeUUID); exists != nil && req.NodeUUID != fixture.UUID {
				t.Errorf("CheckEnroll created node %s", req.NodeUUID)
			}
		})
	}
}
