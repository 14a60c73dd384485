package ironicdriver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// interlockState is what the interlock changes on a node, read straight
// from Ironic.
type interlockState struct {
	InstanceUUID    *string        `json:"instance_uuid"`
	Protected       bool           `json:"protected"`
	ProtectedReason *string        `json:"protected_reason"`
	AutomatedClean  *bool          `json:"automated_clean"`
	Extra           map[string]any `json:"extra"`
}

func readInterlock(t *testing.T, nodeUUID string) interlockState {
	t.Helper()
	var st interlockState
	ironicCall(t, http.MethodGet, "/v1/nodes/"+nodeUUID+"?fields=instance_uuid,protected,protected_reason,automated_clean,extra", nil, &st)
	return st
}

func ptr[T any](v T) *T { return &v }

// patches counts the node PATCHes among the requests.
func patches(calls []string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, "PATCH /v1/nodes/") {
			n++
		}
	}
	return n
}

// TestInterlock: Manage protects the node with the server's reason and
// turns automated cleaning off in the one PATCH that associates it,
// keeping the prior values; Unmanage puts back exactly what was there in
// the one PATCH that releases it. A protected node is adoptable (the
// manageability rule does not look at protection): the interlock keeps its
// owner's reason and restores it.
func TestInterlock(t *testing.T) {
	tests := map[string]struct {
		// prior is set on the node before the adoption (nil: as enrolled).
		prior []map[string]any
		want  interlockState
	}{
		"as enrolled": {
			want: interlockState{Protected: false},
		},
		"automated_clean on": {
			prior: []map[string]any{{"op": "add", "path": "/automated_clean", "value": true}},
			want:  interlockState{AutomatedClean: ptr(true)},
		},
		"automated_clean off": {
			prior: []map[string]any{{"op": "add", "path": "/automated_clean", "value": false}},
			want:  interlockState{AutomatedClean: ptr(false)},
		},
		"protected by someone, with a reason": {
			prior: []map[string]any{{"op": "add", "path": "/protected", "value": true},
				{"op": "add", "path": "/protected_reason", "value": "production database, ask Ana"}},
			want: interlockState{Protected: true, ProtectedReason: ptr("production database, ask Ana")},
		},
		"protected without a reason, cleaning on": {
			prior: []map[string]any{{"op": "add", "path": "/protected", "value": true},
				{"op": "add", "path": "/automated_clean", "value": true}},
			want: interlockState{Protected: true, AutomatedClean: ptr(true)},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := newTestDriver(t)
			counter := countRequests(d)
			n := scratchNode(t)
			if tc.prior != nil {
				ironicCall(t, http.MethodPatch, "/v1/nodes/"+n.UUID, tc.prior, nil)
			}
			before := readInterlock(t, n.UUID)
			server := uuid.NewString()
			got, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server})
			if err != nil {
				t.Fatal(err)
			}
			if !got.Manageable {
				t.Errorf("Manage answered not manageable: %s", got.Reason)
			}
			if p := patches(counter.calls()); p != 1 {
				t.Errorf("Manage sent %d PATCHes, want 1", p)
			}
			wantPrior := map[string]any{"protected": tc.want.Protected, "protected_reason": nil, "automated_clean": nil}
			if tc.want.ProtectedReason != nil {
				wantPrior["protected_reason"] = *tc.want.ProtectedReason
			}
			if tc.want.AutomatedClean != nil {
				wantPrior["automated_clean"] = *tc.want.AutomatedClean
			}
			adopted := readInterlock(t, n.UUID)
			wantAdopted := interlockState{InstanceUUID: &server, Protected: true, ProtectedReason: ptr(protectedReason(server)),
				AutomatedClean: ptr(false), Extra: map[string]any{interlockKey: wantPrior}}
			if diff := cmp.Diff(wantAdopted, adopted); diff != "" {
				t.Errorf("adopted node (-want +got):\n%s", diff)
			}

			if _, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server}); err != nil {
				t.Fatalf("Manage again: %v", err)
			}
			if diff := cmp.Diff(wantAdopted, readInterlock(t, n.UUID)); diff != "" {
				t.Errorf("adopted node after Manage again (-want +got):\n%s", diff)
			}

			counter = countRequests(d)
			d.client = nil // a new transport, counted afresh
			if err := d.Unmanage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server}); err != nil {
				t.Fatal(err)
			}
			if p := patches(counter.calls()); p != 1 {
				t.Errorf("Unmanage sent %d PATCHes, want 1", p)
			}
			if diff := cmp.Diff(before, readInterlock(t, n.UUID)); diff != "" {
				t.Errorf("released node (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want.Protected, before.Protected); diff != "" {
				t.Errorf("the test's prior did not take: %s", diff)
			}
		})
	}
}

// TestUnmanageBeforeTheInterlock: a node adopted by a driver without the
// interlock (instance_uuid alone, no extra.mogan_interlock) is released
// as before: its association goes, nothing else changes.
func TestUnmanageBeforeTheInterlock(t *testing.T) {
	d := newTestDriver(t)
	n := scratchNode(t)
	server := uuid.NewString()
	ironicCall(t, http.MethodPatch, "/v1/nodes/"+n.UUID, []map[string]any{
		{"op": "add", "path": "/instance_uuid", "value": server},
		{"op": "add", "path": "/protected", "value": true},
		{"op": "add", "path": "/protected_reason", "value": "set by hand"},
	}, nil)
	before := readInterlock(t, n.UUID)
	if err := d.Unmanage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server}); err != nil {
		t.Fatal(err)
	}
	want := before
	want.InstanceUUID = nil
	if diff := cmp.Diff(want, readInterlock(t, n.UUID)); diff != "" {
		t.Errorf("released node (-want +got):\n%s", diff)
	}
}

// TestManageKeepsAnEarlierRecord: a node someone released by hand after
// an adoption (instance_uuid removed, our protection and record left)
// keeps the record of before the first adoption, so the next release
// restores that and not our own protection.
func TestManageKeepsAnEarlierRecord(t *testing.T) {
	d := newTestDriver(t)
	n := scratchNode(t)
	first := uuid.NewString()
	if _, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: first}); err != nil {
		t.Fatal(err)
	}
	ironicCall(t, http.MethodPatch, "/v1/nodes/"+n.UUID, []map[string]any{{"op": "remove", "path": "/instance_uuid"}}, nil)
	second := uuid.NewString()
	if _, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: second}); err != nil {
		t.Fatal(err)
	}
	if err := d.Unmanage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: second}); err != nil {
		t.Fatal(err)
	}
	want := interlockState{Extra: map[string]any{}}
	if diff := cmp.Diff(want, readInterlock(t, n.UUID)); diff != "" {
		t.Errorf("released node (-want +got):\n%s", diff)
	}
}

// TestManageANodeThatLeftActive: a node that left active after it was
// validated cannot be protected, so Manage does not associate it and
// answers it not manageable; the host's Unmanage then finds nothing.
func TestManageANodeThatLeftActive(t *testing.T) {
	d := newTestDriver(t)
	nodes, err := ironicEnv(t).ironic.Fixture().Enroll(t.Context(), ironic.Mix{Available: 1, ResourceClass: scratchRC})
	if err != nil {
		t.Fatal(err)
	}
	n := nodes[0]
	server := uuid.NewString()
	got, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server})
	if err != nil {
		t.Fatal(err)
	}
	if got.Manageable || got.Reason != "provision state is available, not active" {
		t.Errorf("Manage = manageable %v, reason %q; want not manageable, not active", got.Manageable, got.Reason)
	}
	if st := readInterlock(t, n.UUID); st.InstanceUUID != nil || st.Protected {
		t.Errorf("node after Manage = %+v, want it untouched", st)
	}
	if err := d.Unmanage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server}); err != nil {
		t.Error(err)
	}
}

// TestUnitUnmanageANodeThatLeftActive: Ironic refuses to protect a node
// that is not active; a node that left active while adopted (someone
// lifted our protection) is released with its automated_clean restored
// and its protection left as it is, in a second PATCH without it.
func TestUnitUnmanageANodeThatLeftActive(t *testing.T) {
	const node, server = "7de2859d-ec6d-42c7-bb86-9d630ba5ac94", "f978ef48-d4af-4dad-beec-e6174309bc71"
	var patches [][]map[string]any
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/nodes/{id}", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"uuid": node, "instance_uuid": server, "extra": map[string]any{
			interlockKey: map[string]any{"protected": true, "protected_reason": "theirs", "automated_clean": true}}})
	})
	mux.HandleFunc("PATCH /v1/nodes/{id}", func(w http.ResponseWriter, r *http.Request) {
		var ops []map[string]any
		_ = json.NewDecoder(r.Body).Decode(&ops)
		patches = append(patches, ops)
		w.Header().Set("Content-Type", "application/json")
		if len(patches) == 1 {
			w.WriteHeader(http.StatusConflict)
			fault, _ := json.Marshal(map[string]any{"faultcode": "Client", "faultstring": "Node " + node +
				" can only be made protected in provision states 'active' or 'rescue', the current state is 'available'"})
			_ = json.NewEncoder(w).Encode(map[string]string{"error_message": string(fault)})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"uuid": node})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	d := newDriver(nil)
	if err := d.Configure(t.Context(), map[string]string{"url": srv.URL}); err != nil {
		t.Fatal(err)
	}
	if err := d.Unmanage(t.Context(), driver.ManageRequest{NodeUUID: node, ServerUUID: server}); err != nil {
		t.Fatal(err)
	}
	paths := func(ops []map[string]any) []string {
		var out []string
		for _, op := range ops {
			out = append(out, op["op"].(string)+" "+op["path"].(string))
		}
		return out
	}
	want := [][]string{
		{"remove /instance_uuid", "add /automated_clean", "add /protected", "add /protected_reason", "remove /extra/" + interlockKey},
		{"remove /instance_uuid", "add /automated_clean", "remove /extra/" + interlockKey},
	}
	var got [][]string
	for _, p := range patches {
		got = append(got, paths(p))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PATCHes (-want +got):\n%s", diff)
	}
}
