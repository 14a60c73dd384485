package ironic

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// A log as Ironic writes it (colour codes and all), with two nodes' lines
// interleaved, a line of a third that only names the first, and a last
// line still being written.
const sampleLog = `2026-12-07 18:29:34.602 9881 INFO ironic.conductor.task_manager [None req-1 - - - - - -] Node %[1]s moved to provision state "verifying" from state "enroll"; target provision state is "manageable"` + "\x1b[00m" + `
2026-12-07 18:29:34.603 9881 INFO ironic.conductor.task_manager [None req-2 - - - - - -] Node %[2]s moved to provision state "verifying" from state "enroll"; target provision state is "manageable"
2026-12-07 18:29:34.660 9881 INFO ironic.conductor.task_manager [None req-1 - - - - - -] Node %[1]s moved to provision state "manageable" from state "verifying"; target provision state is "None"
2026-12-07 18:29:35.002 9881 INFO ironic.conductor.utils [None req-3 - - - - - -] Node %[2]s current power state is 'None', requested state is 'power on'.
2026-12-07 18:29:35.003 9881 INFO ironic.conductor.utils [None req-3 - - - - - -] Successfully set node %[2]s power state to power on by power on.
2026-12-07 18:29:35.100 9881 INFO ironic.conductor.task_manager [None req-4 - - - - - -] Node %[3]s moved to provision state "cleaning" from state "manageable"; target provision state is "available" (like %[1]s)
2026-12-07 18:29:35.200 9881 ERROR ironic.conductor.task_manager [None req-5 - - - - - -] Node %[2]s moved to provision state "adopt failed" from state "adopting"; target provision state is "active"
2026-12-07 18:29:35.300 9881 INFO ironic.conductor.task_manager [None req-1 - - - - - -] Node %[1]s moved to provision state "adopting" from state "manageable"; target provision state is "active"
2026-12-07 18:29:35.301 9881 INFO ironic.conductor.task_manager [None req-1 - - - - - -] Node %[1]s moved to provision state "active" from state "adopting"; target provision state is "None"
2026-12-07 18:29:35.400 9881 INFO ironic.conductor.utils [None req-6 - - - - - -] Node %[1]s current power state is 'power on', requested state is 'power off'.
2026-12-07 18:29:35.500 9881 INFO ironic.conductor.task_manager [None req-7 - - - - - -] Node %[1]s moved to provision state "deploying" from state "active"`

func TestUnitStateLog(t *testing.T) {
	a, b, c := uuid.NewString(), uuid.NewString(), uuid.NewString()
	s := &Server{Log: filepath.Join(t.TempDir(), "ironic.log")}
	if err := os.WriteFile(s.Log, fmt.Appendf(nil, sampleLog, a, b, c), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		node   string
		states []string
		power  []PowerChange
	}{
		"a: the whole way, a half-written line left out": {a, []string{"enroll", "verifying", "manageable", "adopting", "active"},
			[]PowerChange{{"power on", "power off"}}},
		"b: failed adoption, powered on":      {b, []string{"enroll", "verifying", "adopt failed"}, []PowerChange{{"None", "power on"}}},
		"c: starts where its first line says": {c, []string{"manageable", "cleaning"}, nil},
		"unknown node":                        {uuid.NewString(), nil, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			states, err := s.ProvisionStates(tc.node)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.states, states); diff != "" {
				t.Errorf("ProvisionStates (-want +got):\n%s", diff)
			}
			power, err := s.PowerChanges(tc.node)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.power, power); diff != "" {
				t.Errorf("PowerChanges (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStateLogOfARealIronic: a real Ironic, with automated cleaning on and
// redfish enabled, logs what its nodes went through: a fake-hardware node
// enrolled, managed, adopted and powered on; one provided (cleaning shows,
// as a stray provide would); a redfish node whose BMC is a closed port,
// back in enroll at once with its last error and never powered.
func TestStateLogOfARealIronic(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Ironic")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{Dir: t.TempDir(), DieWithParent: true, AutomatedClean: true, Redfish: true, NoPowerSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	f := s.Fixture()
	nodes, err := f.Enroll(ctx, Mix{Adoptable: 1, Available: 1})
	if err != nil {
		t.Fatal(err)
	}
	redfish := uuid.NewString()
	body := map[string]any{"uuid": redfish, "driver": "redfish", "driver_info": map[string]any{
		"redfish_address": "http://" + closedPort(t), "redfish_system_id": "/redfish/v1/Systems/1",
		"redfish_username": "u", "redfish_password": "p"}}
	if err := f.Request(ctx, "POST", "/v1/nodes", body, nil); err != nil {
		t.Fatal(err)
	}
	e := &enroller{url: f.URL, hc: &http.Client{Timeout: 30 * time.Second}}
	start := time.Now()
	err = e.provision(ctx, redfish, "manage", "manageable")
	if err == nil {
		t.Fatal("managing a redfish node whose BMC is a closed port succeeded")
	}
	t.Logf("manage of the redfish node failed in %s: %v", time.Since(start).Round(time.Millisecond), err)
	var st struct {
		ProvisionState string `json:"provision_state"`
	}
	if err := f.Request(ctx, "GET", "/v1/nodes/"+redfish+"?fields=provision_state", nil, &st); err != nil {
		t.Fatal(err)
	}
	if st.ProvisionState != "enroll" {
		t.Errorf("the redfish node is %s after manage failed, want enroll", st.ProvisionState)
	}
	tests := map[string]struct {
		node   string
		states []string
		power  []PowerChange
	}{
		"adopted":  {nodes[0].UUID, []string{"enroll", "verifying", "manageable", "adopting", "active"}, []PowerChange{{"None", "power on"}}},
		"provided": {nodes[1].UUID, []string{"enroll", "verifying", "manageable", "cleaning", "available"}, nil},
		"redfish":  {redfish, []string{"enroll", "verifying", "enroll"}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			states, err := s.ProvisionStates(tc.node)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.states, states); diff != "" {
				t.Errorf("ProvisionStates (-want +got):\n%s", diff)
			}
			power, err := s.PowerChanges(tc.node)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.power, power); diff != "" {
				t.Errorf("PowerChanges (-want +got):\n%s", diff)
			}
		})
	}
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}
