package ironicdriver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// writes are the requests that change something in Ironic.
func writes(calls []string) []string {
	var out []string
	for _, c := range calls {
		if !strings.HasPrefix(c, "GET ") {
			out = append(out, c)
		}
	}
	return out
}

func strPtr(s string) *string { return &s }

// held is how a node a migration holds looks in Ironic.
func held(migrationID string) *sourceView {
	return &sourceView{ProvisionState: "active", Maintenance: true, MaintenanceReason: strPtr(migrationReason(migrationID)), PowerState: strPtr("power on")}
}

// asMade is how a source node of state looks in Ironic when made.
func asMade(state sourceState) *sourceView {
	v := &sourceView{ProvisionState: "active", PowerState: strPtr("power on")}
	switch state {
	case sourceMaintenance:
		v.Maintenance, v.MaintenanceReason = true, strPtr(theirMaintenance)
	case sourceProtected:
		v.Protected = true
	case sourceManageable:
		v.ProvisionState = "manageable"
	}
	return v
}

// compareViews ignores the power state of a node never made active (the
// fixture did not power it): the tests compare it before and after.
var compareViews = cmp.Comparer(func(a, b *sourceView) bool { return a.String() == b.String() })

// TestHoldNode: a hold puts an active, unassociated, unprotected node out
// of maintenance into maintenance with the migration's reason, in one
// request besides its reads; holding it again is success and sends
// nothing; every other node is refused, NotManageable saying what to do,
// and left as it was. Ironic's log shows no provision state and no power
// action for any of them.
func TestHoldNode(t *testing.T) {
	migration, other := uuid.NewString(), uuid.NewString()
	tests := map[string]struct {
		state      sourceState
		heldBy     string // a migration that holds the node before the call
		wantErr    error
		wantReason string
		want       *sourceView
		wantWrites int
	}{
		"active":                           {state: sourceActive, want: held(migration), wantWrites: 1},
		"held by this migration":           {state: sourceActive, heldBy: migration, want: held(migration)},
		"held by another migration":        {state: sourceActive, heldBy: other, wantErr: driver.ErrNotManageable, wantReason: "in maintenance (\"mogan-manage migration " + other, want: held(other)},
		"in maintenance, someone's reason": {state: sourceMaintenance, wantErr: driver.ErrNotManageable, wantReason: "take it out of maintenance", want: asMade(sourceMaintenance)},
		"protected":                        {state: sourceProtected, wantErr: driver.ErrNotManageable, wantReason: "it is protected (\"" + theirProtection, want: asMade(sourceProtected)},
		"associated":                       {state: sourceAssociated, wantErr: driver.ErrNotManageable, wantReason: "delete or unmanage the instance in the source cloud first", want: asMade(sourceAssociated)},
		"not active":                       {state: sourceManageable, wantErr: driver.ErrNotManageable, wantReason: "not active", want: asMade(sourceManageable)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := bareSource(tc.state).make(t)
			d := newTestDriver(t)
			counter := countRequests(d)
			if tc.heldBy != "" {
				if err := d.HoldNode(t.Context(), tc.heldBy, s.UUID); err != nil {
					t.Fatal(err)
				}
			}
			before, sent := readMachineLog(t, s.UUID), len(counter.calls())
			err := d.HoldNode(t.Context(), migration, s.UUID)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("HoldNode = %v, want %v", err, tc.wantErr)
			}
			if reason := driver.ReasonOf(err); !strings.Contains(reason, tc.wantReason) {
				t.Errorf("reason %q does not say %q", reason, tc.wantReason)
			}
			if got := writes(counter.calls()[sent:]); len(got) != tc.wantWrites {
				t.Errorf("requests that change Ironic: %v, want %d", got, tc.wantWrites)
			}
			if diff := cmp.Diff(tc.want, viewSource(t, s.UUID), compareViews); diff != "" {
				t.Errorf("node after HoldNode (-want +got):\n%s", diff)
			}
			wantMachineUntouched(t, s.UUID, before)
		})
	}
	d := newTestDriver(t)
	for name, tc := range map[string]struct {
		migration, node string
		wantErr         error
	}{
		"unknown node":    {migration, uuid.NewString(), driver.ErrNodeNotFound},
		"not a uuid":      {migration, "source-1", driver.ErrNodeNotFound},
		"no migration id": {"", uuid.NewString(), driver.ErrInvalidArgument},
	} {
		t.Run(name, func(t *testing.T) {
			if err := d.HoldNode(t.Context(), tc.migration, tc.node); !errors.Is(err, tc.wantErr) {
				t.Errorf("HoldNode = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestUnholdNode: an unhold takes out of maintenance only a node this
// migration holds (Ironic clears the reason with it); a node held by
// another migration, in maintenance for someone, not in maintenance or
// gone is left alone, without a request that changes it.
func TestUnholdNode(t *testing.T) {
	migration, other := uuid.NewString(), uuid.NewString()
	tests := map[string]struct {
		state      sourceState
		heldBy     string
		gone       bool
		want       *sourceView
		wantWrites int
	}{
		"held by this migration":           {state: sourceActive, heldBy: migration, want: asMade(sourceActive), wantWrites: 1},
		"held by another migration":        {state: sourceActive, heldBy: other, want: held(other)},
		"in maintenance, someone's reason": {state: sourceMaintenance, want: asMade(sourceMaintenance)},
		"not in maintenance":               {state: sourceActive, want: asMade(sourceActive)},
		"gone":                             {state: sourceActive, heldBy: migration, gone: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := bareSource(tc.state).make(t)
			d := newTestDriver(t)
			counter := countRequests(d)
			if tc.heldBy != "" {
				if err := d.HoldNode(t.Context(), tc.heldBy, s.UUID); err != nil {
					t.Fatal(err)
				}
			}
			if tc.gone {
				ironicCall(t, http.MethodDelete, "/v1/nodes/"+s.UUID, nil, nil)
			}
			before, sent := readMachineLog(t, s.UUID), len(counter.calls())
			if err := d.UnholdNode(t.Context(), migration, s.UUID); err != nil {
				t.Fatalf("UnholdNode = %v", err)
			}
			if got := writes(counter.calls()[sent:]); len(got) != tc.wantWrites {
				t.Errorf("requests that change Ironic: %v, want %d", got, tc.wantWrites)
			}
			if diff := cmp.Diff(tc.want, viewSource(t, s.UUID), compareViews); diff != "" {
				t.Errorf("node after UnholdNode (-want +got):\n%s", diff)
			}
			wantMachineUntouched(t, s.UUID, before)
		})
	}
}

// TestReleaseNode: a release deletes from Ironic, with its ports and
// portgroups, only the node this migration holds — Ironic's log shows no
// provision state and no power action: the machine keeps running —; a
// node gone is success; any other node is a conflict saying what it
// found, and left as it was; one protected since the hold is Ironic's
// NodeProtected.
func TestReleaseNode(t *testing.T) {
	migration, other := uuid.NewString(), uuid.NewString()
	tests := map[string]struct {
		state   sourceState
		heldBy  string
		after   func(t *testing.T, s *source) // before the release
		wantErr error
		wantMsg string
		want    *sourceView // nil: gone
	}{
		"held by this migration":           {state: sourceActive, heldBy: migration},
		"gone":                             {state: sourceActive, heldBy: migration, after: func(t *testing.T, s *source) { ironicCall(t, http.MethodDelete, "/v1/nodes/"+s.UUID, nil, nil) }},
		"held by another migration":        {state: sourceActive, heldBy: other, wantErr: driver.ErrConflict, wantMsg: "in maintenance, reason \"mogan-manage migration " + other, want: held(other)},
		"in maintenance, someone's reason": {state: sourceMaintenance, wantErr: driver.ErrConflict, wantMsg: theirMaintenance, want: asMade(sourceMaintenance)},
		"not in maintenance":               {state: sourceActive, wantErr: driver.ErrConflict, wantMsg: "not in maintenance", want: asMade(sourceActive)},
		"protected since the hold": {state: sourceActive, heldBy: migration, wantErr: driver.ErrNodeProtected, wantMsg: "protected",
			after: func(t *testing.T, s *source) {
				ironicCall(t, http.MethodPatch, "/v1/nodes/"+s.UUID, []map[string]any{{"op": "add", "path": "/protected", "value": true}}, nil)
			},
			want: func() *sourceView { v := held(migration); v.Protected = true; return v }()},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := richSource(tc.state).make(t)
			d := newTestDriver(t)
			if tc.heldBy != "" {
				if err := d.HoldNode(t.Context(), tc.heldBy, s.UUID); err != nil {
					t.Fatal(err)
				}
			}
			if tc.after != nil {
				tc.after(t, s)
			}
			before := readMachineLog(t, s.UUID)
			err := d.ReleaseNode(t.Context(), migration, s.UUID)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("ReleaseNode = %v, want %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("ReleaseNode = %q, want it to say %q", err, tc.wantMsg)
			}
			if diff := cmp.Diff(tc.want, viewSource(t, s.UUID), compareViews); diff != "" {
				t.Errorf("node after ReleaseNode (-want +got):\n%s", diff)
			}
			if tc.want == nil {
				macs := make([]string, len(s.Ports))
				for i, p := range s.Ports {
					macs[i] = p.MAC
				}
				if left := portsWithMAC(t, macs...); len(left) != 0 {
					t.Errorf("ports left after the release: %+v", left)
				}
				// A second release of a node that is gone is done.
				if err := d.ReleaseNode(t.Context(), migration, s.UUID); err != nil {
					t.Errorf("ReleaseNode again = %v", err)
				}
			}
			wantMachineUntouched(t, s.UUID, before)
		})
	}
}

// ironicLockWait is about how long Ironic itself waits for a node's lock
// before it answers NodeLocked ([conductor] node_locked_retry_attempts 3,
// node_locked_retry_interval 1 s): a lock held for less is not seen.
const ironicLockWait = 3 * time.Second

// TestHandoffOnALockedNode: while a conductor holds the node (Ironic's
// NodeLocked: here another host's reservation written in its database),
// hold, unhold and release send their request again until it lets go;
// hold and unhold give up after their attempts (a conflict saying the
// node is locked, the node as it was), release waits as long as its call
// may last, and fails when that is not enough, the node as it was.
func TestHandoffOnALockedNode(t *testing.T) {
	migration := uuid.NewString()
	moment := ironicLockWait + time.Second // past Ironic's own wait, so the driver retries
	tests := map[string]struct {
		heldBefore bool
		call       func(d *Driver, ctx context.Context, node string) error
		lockedFor  time.Duration // 0: for good
		timeout    time.Duration // of the call
		wantErr    error         // nil: success, unless wantAnyErr
		wantAnyErr bool
		want       *sourceView
	}{
		"hold, locked for a moment":   {call: holdFor(migration), lockedFor: moment, want: held(migration)},
		"hold, locked for good":       {call: holdFor(migration), wantErr: driver.ErrConflict, want: asMade(sourceActive)},
		"unhold, locked for a moment": {heldBefore: true, call: unholdFor(migration), lockedFor: moment, want: asMade(sourceActive)},
		"unhold, locked for good":     {heldBefore: true, call: unholdFor(migration), wantErr: driver.ErrConflict, want: held(migration)},
		"release, locked for a moment": {heldBefore: true, call: releaseFor(migration), lockedFor: moment,
			want: nil},
		"release, locked past the call's deadline": {heldBefore: true, call: releaseFor(migration), timeout: ironicLockWait + 2*time.Second,
			wantAnyErr: true, want: held(migration)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := bareSource(sourceActive).make(t)
			d := newTestDriver(t)
			counter := countRequests(d)
			d.lockRetry = lockRetry{attempts: 2, base: 20 * time.Millisecond, ceil: 100 * time.Millisecond}
			if tc.heldBefore {
				if err := d.HoldNode(t.Context(), migration, s.UUID); err != nil {
					t.Fatal(err)
				}
			}
			before, sent := readMachineLog(t, s.UUID), len(counter.calls())
			db := ironicEnv(t).ironic.DB
			unlock := func() error {
				return execIronicDB(context.Background(), db, "UPDATE nodes SET reservation = NULL WHERE uuid = ?", s.UUID)
			}
			t.Cleanup(func() { _ = unlock() })
			ironicDB(t, "UPDATE nodes SET reservation = 'another-conductor' WHERE uuid = ?", s.UUID)
			if tc.lockedFor > 0 {
				timer := time.AfterFunc(tc.lockedFor, func() { _ = unlock() })
				t.Cleanup(func() { timer.Stop() })
			}
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 4 * ironicLockWait
			}
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()
			err := tc.call(d, ctx, s.UUID)
			switch {
			case tc.wantAnyErr && err == nil, !tc.wantAnyErr && (!errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil)):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			case errors.Is(err, driver.ErrConflict) && !strings.Contains(err.Error(), "locked"):
				t.Errorf("err = %q does not say the node is locked", err)
			}
			if got := writes(counter.calls()[sent:]); len(got) < 2 {
				t.Errorf("requests that change Ironic: %v; want the locked one sent again", got)
			}
			if err := unlock(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, viewSource(t, s.UUID), compareViews); diff != "" {
				t.Errorf("node after the call (-want +got):\n%s", diff)
			}
			wantMachineUntouched(t, s.UUID, before)
		})
	}
}

func holdFor(migration string) func(*Driver, context.Context, string) error {
	return func(d *Driver, ctx context.Context, node string) error { return d.HoldNode(ctx, migration, node) }
}

func unholdFor(migration string) func(*Driver, context.Context, string) error {
	return func(d *Driver, ctx context.Context, node string) error { return d.UnholdNode(ctx, migration, node) }
}

func releaseFor(migration string) func(*Driver, context.Context, string) error {
	return func(d *Driver, ctx context.Context, node string) error { return d.ReleaseNode(ctx, migration, node) }
}

// TestUnitHoldSeesAChangeInTheWindow: Ironic's maintenance request is not
// conditional, so a hold reads the node again after it: someone else's
// maintenance reason there is a conflict (the hold is not ours, and is
// left); a node associated meanwhile is refused and taken out of
// maintenance again.
func TestUnitHoldSeesAChangeInTheWindow(t *testing.T) {
	migration := uuid.NewString()
	tests := map[string]struct {
		after      map[string]any // the node as the read after the hold finds it
		wantErr    error
		wantWrites []string
	}{
		"someone else's reason": {
			after:      map[string]any{"maintenance": true, "maintenance_reason": "firmware"},
			wantErr:    driver.ErrConflict,
			wantWrites: []string{"PUT maintenance"},
		},
		"associated meanwhile": {
			after:      map[string]any{"maintenance": true, "maintenance_reason": migrationReason(migration), "instance_uuid": "i-1"},
			wantErr:    driver.ErrNotManageable,
			wantWrites: []string{"PUT maintenance", "DELETE maintenance"},
		},
		"as held": {
			after:      map[string]any{"maintenance": true, "maintenance_reason": migrationReason(migration)},
			wantWrites: []string{"PUT maintenance"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var reads atomic.Int32
			var mu sync.Mutex
			var got []string
			mux := http.NewServeMux()
			mux.HandleFunc("GET /v1/nodes/{id}", func(w http.ResponseWriter, r *http.Request) {
				n := map[string]any{"uuid": r.PathValue("id"), "provision_state": "active", "maintenance": false}
				if reads.Add(1) > 1 {
					for k, v := range tc.after {
						n[k] = v
					}
				}
				_ = json.NewEncoder(w).Encode(n)
			})
			for _, method := range []string{http.MethodPut, http.MethodDelete} {
				mux.HandleFunc(method+" /v1/nodes/{id}/maintenance", func(w http.ResponseWriter, _ *http.Request) {
					mu.Lock()
					got = append(got, method+" maintenance")
					mu.Unlock()
					w.WriteHeader(http.StatusAccepted)
				})
			}
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			d := newDriver(nil)
			if err := d.Configure(t.Context(), map[string]string{"url": srv.URL}); err != nil {
				t.Fatal(err)
			}
			err := d.HoldNode(t.Context(), migration, uuid.NewString())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("HoldNode = %v, want %v", err, tc.wantErr)
			}
			if !slices.Equal(got, tc.wantWrites) {
				t.Errorf("writes %v, want %v", got, tc.wantWrites)
			}
		})
	}
}
