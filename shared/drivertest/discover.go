package drivertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

func (k *kit) discover(t *testing.T) {
	if !k.has(driver.CapabilityDiscover) {
		t.Run("ListManageableNodes not implemented", func(t *testing.T) {
			err := k.driver().ListManageableNodes(k.ctx(t), driver.ListOptions{}, func(driver.Node) error { return nil })
			wantNotImplemented(t, "ListManageableNodes", err)
		})
		t.Run("GetManageableNode not implemented", func(t *testing.T) {
			_, err := k.driver().GetManageableNode(k.ctx(t), uuid.NewString())
			wantNotImplemented(t, "GetManageableNode", err)
		})
		return
	}
	t.Run("list ends cleanly", func(t *testing.T) {
		nodes, err := k.list(t, driver.ListOptions{})
		if err != nil {
			t.Fatalf("ListManageableNodes: %v", err)
		}
		for i, n := range nodes {
			if n.UUID == "" {
				t.Errorf("node %d has no UUID", i)
			}
			if !n.Manageable {
				t.Errorf("node %s listed as not manageable without include_unmanageable", n.UUID)
			}
		}
		k.listed = uuids(nodes)
	})
	t.Run("limit honoured", func(t *testing.T) {
		if len(k.listed) < 2 {
			t.Skipf("needs 2 listed nodes, the driver listed %d", len(k.listed))
		}
		nodes, err := k.list(t, driver.ListOptions{Limit: 1})
		if err != nil {
			t.Fatalf("ListManageableNodes(limit 1): %v", err)
		}
		if diff := cmp.Diff(k.listed[:1], uuids(nodes)); diff != "" {
			t.Errorf("limit 1 listing (-want +got):\n%s", diff)
		}
	})
	t.Run("marker honoured", func(t *testing.T) {
		if len(k.listed) < 2 {
			t.Skipf("needs 2 listed nodes, the driver listed %d", len(k.listed))
		}
		marker := k.listed[0]
		nodes, err := k.list(t, driver.ListOptions{Marker: marker})
		if err != nil {
			t.Fatalf("ListManageableNodes(marker %s): %v", marker, err)
		}
		if diff := cmp.Diff(k.listed[1:], uuids(nodes)); diff != "" {
			t.Errorf("listing after marker %s (-want +got):\n%s", marker, diff)
		}
	})
	t.Run("unknown node is not found", func(t *testing.T) {
		id := uuid.NewString()
		_, err := k.driver().GetManageableNode(k.ctx(t), id)
		if !errors.Is(err, driver.ErrNodeNotFound) {
			t.Errorf("GetManageableNode(%s) = %v, want driver.ErrNodeNotFound", id, err)
		}
	})
	t.Run("listed node can be got, manageable", func(t *testing.T) {
		if len(k.listed) == 0 {
			t.Skip("the driver listed no nodes")
		}
		id := k.listed[0]
		n, err := k.driver().GetManageableNode(k.ctx(t), id)
		if err != nil {
			t.Fatalf("GetManageableNode(%s): %v", id, err)
		}
		if n.UUID != id {
			t.Errorf("GetManageableNode(%s) returned node %s", id, n.UUID)
		}
		// One rule judges the listing and the re-validation: what was just
		// listed as manageable is still manageable.
		if !n.Manageable || n.Reason != "" {
			t.Errorf("GetManageableNode(%s) = manageable %v, reason %q; the listing called it manageable", id, n.Manageable, n.Reason)
		}
	})
	t.Run("cancellation honoured", func(t *testing.T) {
		if len(k.listed) == 0 {
			t.Skip("the driver listed no nodes")
		}
		k.cancelMidStream(t)
	})
}

// cancelMidStream cancels a listing on its first node: the call must end
// with context.Canceled well within the timeout, and the plugin keep
// answering.
func (k *kit) cancelMidStream(t *testing.T) {
	ctx, cancel := context.WithCancel(k.ctx(t))
	defer cancel()
	start := time.Now()
	received := 0
	err := k.driver().ListManageableNodes(ctx, driver.ListOptions{}, func(driver.Node) error {
		received++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("ListManageableNodes cancelled after its first node = %v, want context.Canceled", err)
	}
	if received != 1 {
		t.Errorf("received %d nodes after cancelling on the first", received)
	}
	if took := time.Since(start); took >= k.cfg.Timeout {
		t.Errorf("cancelled listing took %s, the call timeout", took)
	}
	if _, err := k.list(t, driver.ListOptions{Limit: 1}); err != nil {
		t.Errorf("listing after a cancelled listing: %v", err)
	}
}

// list collects a whole listing.
func (k *kit) list(t *testing.T, opts driver.ListOptions) ([]driver.Node, error) {
	var nodes []driver.Node
	err := k.driver().ListManageableNodes(k.ctx(t), opts, func(n driver.Node) error {
		nodes = append(nodes, n)
		return nil
	})
	return nodes, err
}

func uuids(nodes []driver.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.UUID
	}
	return out
}

func wantNotImplemented(t *testing.T, call string, err error) {
	t.Helper()
	if !errors.Is(err, driver.ErrNotImplemented) {
		t.Errorf("%s without the capability = %v, want driver.ErrNotImplemented", call, err)
	}
}
