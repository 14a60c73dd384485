package ironicdriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// instanceUUID reads a node's instance_uuid straight from Ironic.
func instanceUUID(t *testing.T, nodeUUID string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, env.ironic.URL+"/v1/nodes/"+nodeUUID+"?fields=instance_uuid", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-OpenStack-Ironic-API-Version", DefaultAPIVersion)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var n struct {
		InstanceUUID *string `json:"instance_uuid"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&n); err != nil {
		t.Fatal(err)
	}
	if n.InstanceUUID == nil {
		return ""
	}
	return *n.InstanceUUID
}

func TestGetManageableNode(t *testing.T) {
	d := launch(t)
	for _, kind := range []ironic.Kind{
		ironic.KindAdoptable, ironic.KindAssociated, ironic.KindMaintenance,
		ironic.KindAvailable, ironic.KindNoResourceClass,
	} {
		t.Run(string(kind), func(t *testing.T) {
			n := fixtureOf(kind)[0]
			w := want(n)
			got, err := d.GetManageableNode(t.Context(), n.UUID)
			if kind == ironic.KindAdoptable {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(w, got, equateEmpty); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				return
			}
			if !errors.Is(err, driver.ErrNotManageable) || driver.ReasonOf(err) != w.Reason {
				t.Errorf("err = %v (reason %q), want ErrNotManageable with reason %q", err, driver.ReasonOf(err), w.Reason)
			}
		})
	}
	for name, id := range map[string]string{"unknown": uuid.NewString(), "not a uuid": "node-1"} {
		t.Run(name, func(t *testing.T) {
			if _, err := d.GetManageableNode(t.Context(), id); !errors.Is(err, driver.ErrNodeNotFound) {
				t.Errorf("err = %v, want ErrNodeNotFound", err)
			}
		})
	}
}

// The adoption life cycle through the real plugin process.
func TestManageAndUnmanage(t *testing.T) {
	d := launch(t)
	n := scratchNode(t)
	server, other := uuid.NewString(), uuid.NewString()

	got, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server})
	if err != nil {
		t.Fatal(err)
	}
	if got.InstanceUUID != server || len(got.Ports) != len(n.Ports) {
		t.Errorf("Manage returned instance %q with %d ports, want %s with %d", got.InstanceUUID, len(got.Ports), server, len(n.Ports))
	}
	if iu := instanceUUID(t, n.UUID); iu != server {
		t.Fatalf("Ironic's instance_uuid = %q, want %s", iu, server)
	}
	t.Run("again for the same server", func(t *testing.T) {
		if _, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server}); err != nil {
			t.Errorf("err = %v, want success (idempotent)", err)
		}
	})
	t.Run("again for another server", func(t *testing.T) {
		_, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: other})
		if !errors.Is(err, driver.ErrConflict) {
			t.Errorf("err = %v, want ErrConflict", err)
		}
	})
	t.Run("unknown node", func(t *testing.T) {
		_, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: uuid.NewString(), ServerUUID: other})
		if !errors.Is(err, driver.ErrNodeNotFound) {
			t.Errorf("err = %v, want ErrNodeNotFound", err)
		}
	})
	t.Run("unmanage by another server leaves it", func(t *testing.T) {
		if err := d.Unmanage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: other}); err != nil {
			t.Fatal(err)
		}
		if iu := instanceUUID(t, n.UUID); iu != server {
			t.Errorf("instance_uuid = %q, want %s kept", iu, server)
		}
	})
	t.Run("unmanage clears it", func(t *testing.T) {
		if err := d.Unmanage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server}); err != nil {
			t.Fatal(err)
		}
		if iu := instanceUUID(t, n.UUID); iu != "" {
			t.Errorf("instance_uuid = %q, want none", iu)
		}
		// and twice is fine
		if err := d.Unmanage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server}); err != nil {
			t.Errorf("second Unmanage: %v", err)
		}
	})
	t.Run("unmanage an unknown node", func(t *testing.T) {
		if err := d.Unmanage(t.Context(), driver.ManageRequest{NodeUUID: uuid.NewString(), ServerUUID: server}); err != nil {
			t.Errorf("err = %v, want nil", err)
		}
	})
}

func TestManageRefusesUnmanageableNode(t *testing.T) {
	d := newTestDriver(t)
	n := fixtureOf(ironic.KindMaintenance)[0]
	_, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: uuid.NewString()})
	if !errors.Is(err, driver.ErrNotManageable) || driver.ReasonOf(err) != "node is in maintenance" {
		t.Errorf("err = %v, want ErrNotManageable: node is in maintenance", err)
	}
	if iu := instanceUUID(t, n.UUID); iu != "" {
		t.Errorf("instance_uuid = %q left behind", iu)
	}
}

// Concurrent adoptions of one node through Ironic alone: exactly one wins.
func TestConcurrentManageOneWins(t *testing.T) {
	d := launch(t)
	n := scratchNode(t)
	const racers = 4
	var wins, conflicts atomic.Int32
	winner := make([]string, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			server := uuid.NewString()
			_, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server})
			switch {
			case err == nil:
				wins.Add(1)
				winner[i] = server
			case errors.Is(err, driver.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("racer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != racers-1 {
		t.Fatalf("%d wins and %d conflicts, want 1 and %d", wins.Load(), conflicts.Load(), racers-1)
	}
	if iu := instanceUUID(t, n.UUID); iu != strings.Join(winner, "") {
		t.Errorf("instance_uuid = %s, want the winner %v", iu, winner)
	}
}

// lockedIronic answers NodeLocked to the first `locked` PATCHes of a node
// (a real Ironic cannot be made to hold a lock on demand).
func lockedIronic(t *testing.T, locked int) (*httptest.Server, *atomic.Int32) {
	var patches atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("PATCH /v1/nodes/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if int(patches.Add(1)) <= locked {
			w.WriteHeader(http.StatusConflict)
			fault, _ := json.Marshal(map[string]any{"faultcode": "Client", "faultstring": fmt.Sprintf(
				"Node %s is locked by host localhost, please retry after the current operation is completed.", r.PathValue("id")), "debuginfo": nil})
			_ = json.NewEncoder(w).Encode(map[string]string{"error_message": string(fault)})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"uuid": r.PathValue("id"), "provision_state": "active",
			"resource_class": "gold", "instance_uuid": "s", "power_state": "power on"})
	})
	mux.HandleFunc("GET /v1/ports", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"ports": []}`)) })
	mux.HandleFunc("GET /v1/portgroups", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"portgroups": []}`)) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &patches
}

func TestManageRetriesNodeLocked(t *testing.T) {
	tests := map[string]struct {
		locked      int
		wantErr     error
		wantPatches int32
	}{
		"locked twice, then free": {locked: 2, wantPatches: 3},
		"locked for good":         {locked: 100, wantErr: driver.ErrConflict, wantPatches: 4},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv, patches := lockedIronic(t, tc.locked)
			d := newDriver(nil)
			d.lockRetry = lockRetry{attempts: 4, base: time.Millisecond, ceil: 5 * time.Millisecond}
			if err := d.Configure(t.Context(), map[string]string{"url": srv.URL}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			_, err := d.Manage(ctx, driver.ManageRequest{NodeUUID: uuid.NewString(), ServerUUID: "s"})
			if !errors.Is(err, tc.wantErr) && (tc.wantErr != nil || err != nil) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil && !strings.Contains(err.Error(), "locked") {
				t.Errorf("err = %q does not say the node is locked", err)
			}
			if got := patches.Load(); got != tc.wantPatches {
				t.Errorf("%d PATCH requests, want %d", got, tc.wantPatches)
			}
		})
	}
}
