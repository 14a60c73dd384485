package ironic

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// TestUnitEvents reads a node's provision-state changes and its deletion,
// with their times, across the log of a run before a Restart and the
// current one.
func TestUnitEvents(t *testing.T) {
	a, b, c := uuid.NewString(), uuid.NewString(), uuid.NewString()
	dir := t.TempDir()
	s := &Server{Log: filepath.Join(dir, "ironic.log"), PreviousLogs: []string{filepath.Join(dir, "ironic.log.1")}}
	if err := os.WriteFile(s.PreviousLogs[0], fmt.Appendf(nil, sampleLog+"\n", a, b, c), 0o600); err != nil {
		t.Fatal(err)
	}
	current := "2026-12-07 18:30:00.250 9990 INFO ironic.conductor.manager [None req-8 - - - - - -] Successfully deleted node %[1]s.\x1b[00m\n" +
		"2026-12-07 18:30:01.000 9990 INFO ironic.conductor.manager [None req-9 - - - - - -] Successfully deleted node %[2]s."
	if err := os.WriteFile(s.Log, fmt.Appendf(nil, current, a, b), 0o600); err != nil {
		t.Fatal(err)
	}
	at := func(clock string) time.Time {
		tm, err := time.ParseInLocation(logTimeLayout, "2026-12-07 "+clock, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := map[string]struct {
		node string
		want []Event
	}{
		"a: adopted, then deleted after the restart": {a, []Event{
			{At: at("18:29:34.602"), State: "verifying"}, {At: at("18:29:34.660"), State: "manageable"},
			{At: at("18:29:35.300"), State: "adopting"}, {At: at("18:29:35.301"), State: "active"},
			{At: at("18:29:35.500"), State: "deploying"}, {At: at("18:30:00.250"), Deleted: true},
		}},
		"b: a deletion still being written is left out": {b, []Event{
			{At: at("18:29:34.603"), State: "verifying"}, {At: at("18:29:35.200"), State: "adopt failed"},
		}},
		"c: a line that only names it is not its": {c, []Event{{At: at("18:29:35.100"), State: "cleaning"}}},
		"unknown node": {uuid.NewString(), nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := s.Events(tc.node)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Events (-want +got):\n%s", diff)
			}
			states, err := s.ProvisionStates(tc.node)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i, e := range tc.want {
				if e.Deleted {
					continue
				}
				if i == 0 {
					want = append(want, map[string]string{a: "enroll", b: "enroll", c: "manageable"}[tc.node])
				}
				want = append(want, e.State)
			}
			if diff := cmp.Diff(want, states); diff != "" {
				t.Errorf("ProvisionStates across both logs (-want +got):\n%s", diff)
			}
		})
	}
}
