package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/testenv/holdproxy"
)

// What mogan-api leaves on Neutron ports it no longer answers for (issue
// 15, findings 3 and 4): a binding PUT that lands after its adoption was
// rolled back is repaired, and never recorded as the port's previous
// binding; a node that now belongs to another instance keeps its bindings
// when our server is released.

// TestLateNeutronPutIsRepaired: the first binding PUT of an adoption is
// held past the host's [neutron] timeout (5 s): the adoption answers 503
// and rolls back, then the PUT lands, binding the port to a node nobody
// adopted. Once the reconciler has run, every port of the node is as it was
// before, with no server; and a later adoption and release of the node
// restore that original binding, not the stale one.
func TestLateNeutronPutIsRepaired(t *testing.T) {
	c, nodes := startNetworkCloud(t, 1)
	x := nodes[0]
	ports := vifsOf(x)
	neutronProxy, err := holdproxy.Start(c.Neutron.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(neutronProxy.Close)
	db := "sqlite://" + filepath.Join(t.TempDir(), "mogan.sqlite")
	h := startHost(t, replicaConfig(t, db, "r1", c.Ironic.URL, 30, cloudSections(c, neutronProxy.URL)+
		"[neutron]\ntimeout = 5\n[manage]\nreconcile_interval = 1\n"))
	before := bindings(t, c, ports)

	// Only the first PUT is held: the rollback's own PUTs go through.
	late := neutronProxy.HoldNth(http.MethodPut, `^/v2.0/ports/[^/]+$`, 1, holdproxy.BeforeForward)
	code, body := post(t, h.URL+"/v1/manageable_servers", `{"name": "late", "node_uuid": "`+x.UUID+`"}`)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("adoption whose binding PUT outlived [neutron] timeout: %d %s; want 503", code, body)
	}
	select {
	case <-late.Reached:
	default:
		t.Fatalf("the adoption answered 503 before its first binding PUT (Neutron slower than 5 s?): %s", body)
	}
	late.Release()
	waitClosed(t, late.Forwarded, 30*time.Second, "the held PUT never reached Neutron")

	free := func() string {
		if wrong := freeState(t, c, h.URL, x.UUID, before); wrong != "" {
			return "after the late PUT landed and the reconciler ran: " + wrong
		}
		return ""
	}
	if wrong := settle(20*time.Second, free); wrong != "" {
		t.Errorf("%s", wrong)
	}

	// Adopted and released again: each port gets its real previous
	// binding back.
	code, body = post(t, h.URL+"/v1/manageable_servers", `{"name": "again", "node_uuid": "`+x.UUID+`"}`)
	if code != http.StatusCreated {
		t.Fatalf("adopting the node again: %d %s", code, body)
	}
	srv := serverUUID(t, body)
	if got, want := bindings(t, c, ports), boundTo(ports, x.UUID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("bindings after adopting again = %v, want %v", got, want)
	}
	if code, body := post(t, h.URL+"/v1/servers/"+srv+"/unmanage", ""); code != http.StatusNoContent && code != http.StatusAccepted {
		t.Fatalf("unmanage: %d %s", code, body)
	}
	eventually(t, 20*time.Second, func() string {
		if wrong := freeState(t, c, h.URL, x.UUID, before); wrong != "" {
			return "after adopting the node again and releasing it: " + wrong
		}
		return ""
	})
}

// TestUnmanageLeavesForeignNodeBindings: after our adoption, another
// system gives the node to another instance directly in Ironic. Releasing
// our server must leave that instance_uuid alone and every Neutron port
// bound as the new owner has it.
func TestUnmanageLeavesForeignNodeBindings(t *testing.T) {
	c, nodes := startNetworkCloud(t, 1)
	x := nodes[0]
	ports := vifsOf(x)
	h := startHost(t, replicaConfig(t, "", "r1", c.Ironic.URL, 30, cloudSections(c, c.Neutron.URL)))
	code, body := post(t, h.URL+"/v1/manageable_servers", `{"name": "ours", "node_uuid": "`+x.UUID+`"}`)
	if code != http.StatusCreated {
		t.Fatalf("adopt: %d %s", code, body)
	}
	srv := serverUUID(t, body)
	bound := bindings(t, c, ports)
	if want := boundTo(ports, x.UUID); fmt.Sprint(bound) != fmt.Sprint(want) {
		t.Fatalf("bindings after the adoption = %v, want %v", bound, want)
	}

	// Another system takes the node: a new instance_uuid, set in Ironic.
	foreign := uuid.NewString()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ironicAPI := c.Ironic.Fixture()
	if err := ironicAPI.Request(ctx, http.MethodPatch, "/v1/nodes/"+x.UUID,
		[]map[string]string{{"op": "remove", "path": "/instance_uuid"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ironicAPI.Request(ctx, http.MethodPatch, "/v1/nodes/"+x.UUID,
		[]map[string]string{{"op": "add", "path": "/instance_uuid", "value": foreign}}, nil); err != nil {
		t.Fatal(err)
	}

	if code, body := post(t, h.URL+"/v1/servers/"+srv+"/unmanage", ""); code != http.StatusNoContent && code != http.StatusAccepted {
		t.Fatalf("unmanage of a server whose node another instance holds: %d %s; want 204 (or 202)", code, body)
	}
	eventually(t, 20*time.Second, func() string {
		if _, ok := serversByNode(t, h.URL)[x.UUID]; ok {
			return "the server is still listed after its release"
		}
		return ""
	})
	if inst, err := c.InstanceUUID(ctx, x.UUID); err != nil || inst != foreign {
		t.Errorf("Ironic's instance_uuid after the release = %q (%v), want the other instance's %s", inst, err, foreign)
	}
	if got := bindings(t, c, ports); fmt.Sprint(got) != fmt.Sprint(bound) {
		t.Errorf("the release rewrote the bindings of a node another instance holds: %v, want them untouched: %v", got, bound)
	}
}
