package drivertest

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// nodeStates checks GetNodeStates with node UUIDs nobody has and with the
// listed nodes, which nobody has adopted: it changes nothing.
func (k *kit) nodeStates(t *testing.T) {
	if !k.has(driver.CapabilityStates) {
		t.Run("GetNodeStates not implemented", func(t *testing.T) {
			_, err := k.driver().GetNodeStates(k.ctx(t), []string{uuid.NewString()})
			wantNotImplemented(t, "GetNodeStates", err)
		})
		return
	}
	t.Run("unknown node does not exist", func(t *testing.T) {
		id := uuid.NewString()
		st, err := k.states(t, []string{id})
		if err != nil {
			t.Fatal(err)
		}
		if st[id].Exists || st[id].InstanceUUID != "" {
			t.Errorf("GetNodeStates(%s) = %+v, want Exists false and no InstanceUUID for a node nobody has", id, st[id])
		}
	})
	t.Run("listed nodes exist, unassociated", func(t *testing.T) {
		if len(k.listed) == 0 {
			t.Skip("the driver listed no nodes")
		}
		// Every listed node in one call (a driver may read a large batch
		// differently from a small one), and one unknown among them.
		unknown := uuid.NewString()
		ids := append([]string{unknown}, k.listed[:min(len(k.listed), driver.MaxNodeStates-1)]...)
		st, err := k.states(t, ids)
		if err != nil {
			t.Fatal(err)
		}
		if st[unknown].Exists {
			t.Errorf("unknown node %s: Exists true among listed nodes", unknown)
		}
		for _, id := range ids[1:] {
			if s := st[id]; !s.Exists || s.InstanceUUID != "" {
				t.Errorf("listed node %s: state %+v, want Exists true and no InstanceUUID (it was listed as manageable)", id, s)
			}
		}
	})
	t.Run("more than MaxNodeStates is refused", func(t *testing.T) {
		ids := make([]string, driver.MaxNodeStates+1)
		for i := range ids {
			ids[i] = uuid.NewString()
		}
		_, err := k.driver().GetNodeStates(k.ctx(t), ids)
		if !errors.Is(err, driver.ErrInvalidArgument) {
			t.Errorf("GetNodeStates of %d uuids = %v, want driver.ErrInvalidArgument", len(ids), err)
		}
	})
}

// states calls GetNodeStates and checks that it answered exactly one state
// per requested uuid (in any order); it returns them by uuid. A call that
// fails is returned as it is.
func (k *kit) states(t *testing.T, ids []string) (map[string]driver.NodeState, error) {
	t.Helper()
	states, err := k.driver().GetNodeStates(k.ctx(t), ids)
	if err != nil {
		return nil, err
	}
	wanted := make(map[string]bool, len(ids))
	for _, id := range ids {
		wanted[id] = true
	}
	out := make(map[string]driver.NodeState, len(states))
	for _, s := range states {
		if !wanted[s.NodeUUID] {
			t.Errorf("GetNodeStates answered node %q, which was not asked for", s.NodeUUID)
		}
		if _, dup := out[s.NodeUUID]; dup {
			t.Errorf("GetNodeStates answered node %s twice", s.NodeUUID)
		}
		out[s.NodeUUID] = s
	}
	if len(out) != len(wanted) {
		t.Errorf("GetNodeStates answered %d distinct nodes for %d asked; want one state per uuid", len(out), len(wanted))
	}
	return out, nil
}
