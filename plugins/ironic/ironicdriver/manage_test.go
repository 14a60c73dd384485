package ironicdriver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// ironicCall sends one JSON request straight to the test Ironic, as an
// operator would, and decodes the answer into out (when not nil).
func ironicCall(t *testing.T, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, ironicEnv(t).ironic.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-OpenStack-Ironic-API-Version", DefaultAPIVersion)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

// instanceUUID reads a node's instance_uuid straight from Ironic.
func instanceUUID(t *testing.T, nodeUUID string) string {
	t.Helper()
	var n struct {
		InstanceUUID *string `json:"instance_uuid"`
	}
	ironicCall(t, http.MethodGet, "/v1/nodes/"+nodeUUID+"?fields=instance_uuid", nil, &n)
	if n.InstanceUUID == nil {
		return ""
	}
	return *n.InstanceUUID
}

// Every kind of node comes back whole, judged by the one rule: an
// unmanageable node is not an error but Manageable false with its reason.
func TestGetManageableNode(t *testing.T) {
	d := launch(t)
	for _, kind := range []ironic.Kind{
		ironic.KindAdoptable, ironic.KindAssociated, ironic.KindMaintenance,
		ironic.KindAvailable, ironic.KindNoResourceClass,
	} {
		t.Run(string(kind), func(t *testing.T) {
			n := fixtureOf(t, kind)[0]
			got, err := d.GetManageableNode(t.Context(), n.UUID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want(n), got, equateEmpty); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
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

// managed is what Manage answers for an adoptable fixture node: the node as
// the PATCH left it, manageable, without ports (Manage reads none).
func managed(n ironic.Node, server string) driver.Node {
	w := want(n)
	w.Ports, w.Portgroups = nil, nil
	w.InstanceUUID = server
	return w
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
	if diff := cmp.Diff(managed(n, server), got, equateEmpty); diff != "" {
		t.Errorf("Manage (-want +got):\n%s", diff)
	}
	if iu := instanceUUID(t, n.UUID); iu != server {
		t.Fatalf("Ironic's instance_uuid = %q, want %s", iu, server)
	}
	t.Run("again for the same server", func(t *testing.T) {
		got, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server})
		if err != nil {
			t.Fatalf("err = %v, want success (idempotent)", err)
		}
		if diff := cmp.Diff(managed(n, server), got, equateEmpty); diff != "" {
			t.Errorf("Manage again (-want +got):\n%s", diff)
		}
	})
	t.Run("again for another server", func(t *testing.T) {
		_, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: other})
		if !errors.Is(err, driver.ErrConflict) {
			t.Errorf("err = %v, want ErrConflict", err)
		}
		if iu := instanceUUID(t, n.UUID); iu != server {
			t.Errorf("instance_uuid = %q, want %s kept", iu, server)
		}
	})
	t.Run("a node associated with another instance", func(t *testing.T) {
		a := fixtureOf(t, ironic.KindAssociated)[0]
		_, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: a.UUID, ServerUUID: other})
		if !errors.Is(err, driver.ErrConflict) {
			t.Errorf("err = %v, want ErrConflict", err)
		}
		if iu := instanceUUID(t, a.UUID); iu != a.InstanceUUID {
			t.Errorf("instance_uuid = %q, want %s kept", iu, a.InstanceUUID)
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

// A node that went into maintenance between GetManageableNode and Manage:
// the PATCH associates it anyway (Ironic allows it), Manage answers it not
// manageable with the reason and leaves it associated, and the host's
// Unmanage releases it.
func TestManageNodeChangedSinceValidation(t *testing.T) {
	d := launch(t)
	n := scratchNode(t)
	server := uuid.NewString()
	got, err := d.GetManageableNode(t.Context(), n.UUID)
	if err != nil || !got.Manageable {
		t.Fatalf("GetManageableNode = manageable %v, %v; want a manageable node", got.Manageable, err)
	}
	ironicCall(t, http.MethodPut, "/v1/nodes/"+n.UUID+"/maintenance", map[string]string{"reason": "test"}, nil)

	got, err = d.Manage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server})
	if err != nil {
		t.Fatalf("Manage: %v, want the node answered not manageable", err)
	}
	w := managed(n, server)
	w.Manageable, w.Reason = false, "node is in maintenance"
	if diff := cmp.Diff(w, got, equateEmpty); diff != "" {
		t.Errorf("Manage (-want +got):\n%s", diff)
	}
	if iu := instanceUUID(t, n.UUID); iu != server {
		t.Fatalf("instance_uuid = %q, want %s: the driver must leave the undo to the host", iu, server)
	}
	if err := d.Unmanage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server}); err != nil {
		t.Fatal(err)
	}
	if iu := instanceUUID(t, n.UUID); iu != "" {
		t.Errorf("instance_uuid = %q after Unmanage, want none", iu)
	}
}

// An adoption costs five Ironic requests: GetManageableNode reads the
// node, its ports and its portgroups at once; Manage reads the values the
// interlock keeps and sends one PATCH.
func TestAdoptionCost(t *testing.T) {
	d := newTestDriver(t)
	counter := countRequests(d)
	counter.barrier = 3
	n := scratchNode(t)
	server := uuid.NewString()
	if _, err := d.GetManageableNode(t.Context(), n.UUID); err != nil {
		t.Fatal(err)
	}
	if got := counter.maxInFlight(); got != 3 {
		t.Errorf("GetManageableNode had at most %d requests in flight, want its 3 at once", got)
	}
	if _, err := d.Manage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server}); err != nil {
		t.Fatal(err)
	}
	node := "/v1/nodes/" + n.UUID
	wantCalls := []string{"GET " + node, "GET /v1/ports", "GET /v1/portgroups", "GET " + node, "PATCH " + node}
	byName := cmpopts.SortSlices(func(a, b string) bool { return a < b })
	if diff := cmp.Diff(wantCalls, counter.calls(), byName); diff != "" {
		t.Errorf("Ironic requests of one Get+Manage (-want +got):\n%s", diff)
	}
	if err := d.Unmanage(t.Context(), driver.ManageRequest{NodeUUID: n.UUID, ServerUUID: server}); err != nil {
		t.Error(err)
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
	mux.HandleFunc("GET /v1/nodes/{id}", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"uuid": r.PathValue("id"), "provision_state": "active",
			"resource_class": "gold", "power_state": "power on", "protected": false, "extra": map[string]any{}})
	})
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
