package drivertest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// adopt never touches a real node: it only uses UUIDs nobody has
// (adoptListed does, when Config.Adopt asks for it).
func (k *kit) adopt(t *testing.T) {
	req := driver.ManageRequest{NodeUUID: uuid.NewString(), ServerUUID: uuid.NewString()}
	if !k.has(driver.CapabilityAdopt) {
		t.Run("Manage not implemented", func(t *testing.T) {
			_, err := k.driver().Manage(k.ctx(t), req)
			wantNotImplemented(t, "Manage", err)
		})
		t.Run("Unmanage not implemented", func(t *testing.T) {
			wantNotImplemented(t, "Unmanage", k.driver().Unmanage(k.ctx(t), req))
		})
		return
	}
	t.Run("Manage of an unknown node is not found", func(t *testing.T) {
		_, err := k.driver().Manage(k.ctx(t), req)
		if !errors.Is(err, driver.ErrNodeNotFound) {
			t.Errorf("Manage(%s) = %v, want driver.ErrNodeNotFound", req.NodeUUID, err)
		}
	})
	t.Run("Unmanage of an unknown node", func(t *testing.T) {
		// Idempotent release: nothing to do is fine, so is "not found".
		err := k.driver().Unmanage(k.ctx(t), req)
		if err != nil && !errors.Is(err, driver.ErrNodeNotFound) {
			t.Errorf("Unmanage(%s) = %v, want nil or driver.ErrNodeNotFound", req.NodeUUID, err)
		}
	})
}

// adoptListed adopts the first listed node as a fresh server and releases
// it (Config.Adopt): it changes a real node's association for a moment.
func (k *kit) adoptListed(t *testing.T) {
	if !k.has(driver.CapabilityDiscover) || !k.has(driver.CapabilityAdopt) {
		t.Fatalf("Config.Adopt needs the discover and adopt capabilities; the driver reports %v", k.info.Capabilities)
	}
	if len(k.listed) == 0 {
		t.Fatal("Config.Adopt needs a listed node; the driver listed none")
	}
	node, server, other := k.listed[0], uuid.NewString(), uuid.NewString()
	req := driver.ManageRequest{NodeUUID: node, ServerUUID: server}
	t.Cleanup(func() {
		// Release the node whatever failed above. t.Context() is already
		// cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), k.cfg.Timeout)
		defer cancel()
		if err := k.driver().Unmanage(ctx, req); err != nil {
			t.Errorf("releasing node %s from server %s after the checks: %v; release it by hand", node, server, err)
		}
	})
	manage := func(t *testing.T) {
		n, err := k.driver().Manage(k.ctx(t), req)
		if err != nil {
			t.Fatalf("Manage(%s as %s): %v", node, server, err)
		}
		if n.UUID != node || n.InstanceUUID != server {
			t.Errorf("Manage(%s as %s) answered node %s with instance %q", node, server, n.UUID, n.InstanceUUID)
		}
		// Nothing changed since the listing: judged as if unassociated, the
		// node is still manageable.
		if !n.Manageable || n.Reason != "" {
			t.Errorf("Manage(%s) answered manageable %v, reason %q; want true (judged as if not associated)", node, n.Manageable, n.Reason)
		}
	}
	if !t.Run("Manage", manage) || !t.Run("Manage again for the same server is success", manage) {
		return
	}
	t.Run("Manage for another server is a conflict", func(t *testing.T) {
		_, err := k.driver().Manage(k.ctx(t), driver.ManageRequest{NodeUUID: node, ServerUUID: other})
		if !errors.Is(err, driver.ErrConflict) {
			t.Errorf("Manage(%s as %s) while %s holds it = %v, want driver.ErrConflict", node, other, server, err)
		}
	})
	t.Run("adopted", func(t *testing.T) { k.wantAssociated(t, node, server) })
	t.Run("Unmanage by another server leaves it", func(t *testing.T) {
		if err := k.driver().Unmanage(k.ctx(t), driver.ManageRequest{NodeUUID: node, ServerUUID: other}); err != nil {
			t.Fatalf("Unmanage(%s as %s): %v", node, other, err)
		}
		k.wantAssociated(t, node, server)
	})
	t.Run("Unmanage releases it", func(t *testing.T) {
		if err := k.driver().Unmanage(k.ctx(t), req); err != nil {
			t.Fatalf("Unmanage(%s as %s): %v", node, server, err)
		}
		k.wantAssociated(t, node, "")
	})
}

// wantAssociated checks that node is associated with server ("" for
// none): through GetNodeStates when the driver has it, and through
// GetManageableNode, by whose rule an associated node cannot be adopted.
func (k *kit) wantAssociated(t *testing.T, node, server string) {
	t.Helper()
	if k.has(driver.CapabilityStates) {
		st, err := k.states(t, []string{node})
		if err != nil {
			t.Errorf("GetNodeStates(%s): %v", node, err)
		} else if s := st[node]; !s.Exists || s.InstanceUUID != server {
			t.Errorf("GetNodeStates(%s) = %+v, want Exists true and InstanceUUID %q", node, s, server)
		}
	}
	n, err := k.driver().GetManageableNode(k.ctx(t), node)
	if err != nil {
		t.Errorf("GetManageableNode(%s): %v", node, err)
		return
	}
	if associated := server != ""; n.Manageable == associated {
		t.Errorf("GetManageableNode(%s) = manageable %v (reason %q) while associated with %q", node, n.Manageable, n.Reason, server)
	}
}
