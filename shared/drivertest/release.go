package drivertest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// HandoffConfig names the nodes the caller prepared in a test backend for
// the checks of the export and release capabilities (DESIGN, "The
// handoff"). The checks HOLD, UNHOLD AND DELETE NODES of that backend —
// never touching the machines: set it only for a backend that is yours. A
// node left "" skips the checks that need it, saying so.
type HandoffConfig struct {
	// Hold and Release are nodes that can be handed over: running (Ironic:
	// active), associated with no instance, out of maintenance, not
	// protected. The kit holds Hold and unholds it: it ends as it was. It
	// holds Release and releases it: Release is DELETED from the backend.
	Hold, Release string
	// Protected, Maintenance, Associated and NotActive are nodes that
	// cannot be handed over: running but protected; running and in
	// maintenance for someone else's reason; running and associated with
	// an instance; not running (Ironic: manageable or available). Each is
	// refused and left as it was.
	Protected, Maintenance, Associated, NotActive string
	// Secrets are the driver_info fields of Hold that the backend masks,
	// with their values: the export must name each in Machine.Secrets and
	// hold none of the values.
	Secrets map[string]string
}

// handoff checks the export and release capabilities against the nodes of
// Config.Handoff: the export, the refusals, hold (idempotent, one
// migration's), unhold (only its own), release (only while held by that
// migration), and — with an Observer — that none of it asks the backend
// for a transition.
func (k *kit) handoff(t *testing.T) {
	cfg := k.cfg.Handoff
	if !k.has(driver.CapabilityExport) || !k.has(driver.CapabilityRelease) {
		t.Fatalf("Config.Handoff needs the export and release capabilities; the driver reports %v", k.info.Capabilities)
	}
	k.observed() // what came before is not these checks'
	t.Run("export", func(t *testing.T) { k.checkExport(t, cfg) })
	t.Run("hold refuses a node that cannot move", func(t *testing.T) { k.holdRefusals(t, cfg) })
	t.Run("unknown node", k.handoffUnknown)
	t.Run("hold, unhold: only this migration's", func(t *testing.T) { k.holdAndUnhold(t, cfg) })
	t.Run("release: only while held by that migration", func(t *testing.T) { k.holdAndRelease(t, cfg) })
	t.Run("no transition", func(t *testing.T) {
		if k.cfg.Observer == nil {
			t.Skip("needs Config.Observer")
		}
		for _, r := range k.observed() {
			if k.cfg.Observer.Transition(r) {
				t.Errorf("the driver sent %s while exporting, holding, unholding or releasing: none of them moves a node", r)
			}
		}
	})
}

// checkExport: a node's export names the fields the backend masks as
// secrets and holds none of their values; each node's state is as it is.
func (k *kit) checkExport(t *testing.T, cfg *HandoffConfig) {
	t.Run("unknown node is not found", func(t *testing.T) {
		if _, err := k.driver().ExportNode(k.ctx(t), uuid.NewString()); !errors.Is(err, driver.ErrNodeNotFound) {
			t.Errorf("ExportNode of an unknown node = %v, want driver.ErrNodeNotFound", err)
		}
	})
	t.Run("masked fields are secrets, never their values", func(t *testing.T) {
		if cfg.Hold == "" {
			t.Skip("HandoffConfig.Hold is not set")
		}
		exp := k.export(t, cfg.Hold)
		m := exp.Machine
		for field := range cfg.Secrets {
			if !slices.Contains(m.Secrets, field) {
				t.Errorf("ExportNode(%s): secrets %v do not name the masked field %q", cfg.Hold, m.Secrets, field)
			}
			if _, ok := m.DriverInfo[field]; ok {
				t.Errorf("ExportNode(%s): the masked field %q is in driver_info", cfg.Hold, field)
			}
		}
		for _, field := range m.Secrets {
			if _, ok := m.DriverInfo[field]; ok {
				t.Errorf("ExportNode(%s): secret %q is also in driver_info", cfg.Hold, field)
			}
		}
		b, err := json.Marshal(exp)
		if err != nil {
			t.Fatal(err)
		}
		for field, value := range cfg.Secrets {
			if value != "" && strings.Contains(string(b), value) {
				t.Errorf("ExportNode(%s) holds the value of the masked field %q", cfg.Hold, field)
			}
		}
		if m.Name == "" && m.Driver == "" {
			t.Errorf("ExportNode(%s) describes no machine: %+v", cfg.Hold, m)
		}
		if st := exp.State; st.NodeUUID != cfg.Hold || !st.Exists || st.ProvisionState == "" || st.InstanceUUID != "" || exp.Maintenance || exp.Protected {
			t.Errorf("ExportNode(%s) of a node that can be handed over: state %+v, maintenance %v, protected %v; want it existing, "+
				"with a provision state, unassociated, out of maintenance, unprotected", cfg.Hold, st, exp.Maintenance, exp.Protected)
		}
	})
	for _, c := range k.unmovable(cfg) {
		t.Run("state of the "+c.what+" node", func(t *testing.T) {
			if c.node == "" {
				t.Skip("HandoffConfig does not name one")
			}
			if exp := k.export(t, c.node); !c.shows(exp) {
				t.Errorf("ExportNode(%s) of the %s node: state %+v, maintenance %v, protected %v", c.node, c.what, exp.State, exp.Maintenance, exp.Protected)
			}
		})
	}
}

// unmovableNode is a node of HandoffConfig that hold must refuse, and how
// its export shows why.
type unmovableNode struct {
	what  string
	node  string
	shows func(driver.Export) bool
}

func (k *kit) unmovable(cfg *HandoffConfig) []unmovableNode {
	return []unmovableNode{
		{"protected", cfg.Protected, func(e driver.Export) bool { return e.Protected }},
		{"maintenance", cfg.Maintenance, func(e driver.Export) bool { return e.Maintenance }},
		{"associated", cfg.Associated, func(e driver.Export) bool { return e.State.InstanceUUID != "" }},
		{"not active", cfg.NotActive, func(e driver.Export) bool { return e.State.ProvisionState != "active" }},
	}
}

// holdRefusals: each node that cannot move is refused, NotManageable, and
// left as it was; nor does another migration's release or unhold touch
// it.
func (k *kit) holdRefusals(t *testing.T, cfg *HandoffConfig) {
	for _, c := range k.unmovable(cfg) {
		t.Run(c.what, func(t *testing.T) {
			if c.node == "" {
				t.Skip("HandoffConfig does not name one")
			}
			migration := uuid.NewString()
			t.Cleanup(func() { k.cleanupHold(t, migration, c.node) })
			before := k.export(t, c.node)
			err := k.driver().HoldNode(k.ctx(t), migration, c.node)
			if !errors.Is(err, driver.ErrNotManageable) {
				t.Errorf("HoldNode of the %s node %s = %v, want driver.ErrNotManageable", c.what, c.node, err)
			} else if driver.ReasonOf(err) == "" {
				t.Errorf("HoldNode of the %s node %s refused without a reason: %v", c.what, c.node, err)
			}
			if err := k.driver().ReleaseNode(k.ctx(t), migration, c.node); !errors.Is(err, driver.ErrConflict) {
				t.Errorf("ReleaseNode of the %s node %s, which the migration does not hold = %v, want driver.ErrConflict", c.what, c.node, err)
			}
			if err := k.driver().UnholdNode(k.ctx(t), migration, c.node); err != nil {
				t.Errorf("UnholdNode of the %s node %s, which the migration does not hold = %v, want nil (left alone)", c.what, c.node, err)
			}
			k.wantUnchanged(t, c.node, before)
		})
	}
}

// handoffUnknown: holding a node the backend does not know is not found;
// unholding or releasing it is done (it is gone).
func (k *kit) handoffUnknown(t *testing.T) {
	node, migration := uuid.NewString(), uuid.NewString()
	if err := k.driver().HoldNode(k.ctx(t), migration, node); !errors.Is(err, driver.ErrNodeNotFound) {
		t.Errorf("HoldNode of an unknown node = %v, want driver.ErrNodeNotFound", err)
	}
	if err := k.driver().UnholdNode(k.ctx(t), migration, node); err != nil {
		t.Errorf("UnholdNode of an unknown node = %v, want nil (gone)", err)
	}
	if err := k.driver().ReleaseNode(k.ctx(t), migration, node); err != nil {
		t.Errorf("ReleaseNode of an unknown node = %v, want nil (gone)", err)
	}
}

// holdAndUnhold: a hold puts the node in maintenance and is idempotent;
// another migration can neither hold, release nor unhold it; its own
// unhold takes the node back out, as it was; a second unhold, or a
// release of a node not held, leaves it alone. Another's maintenance
// survives this migration's unhold.
func (k *kit) holdAndUnhold(t *testing.T, cfg *HandoffConfig) {
	if cfg.Hold == "" {
		t.Skip("HandoffConfig.Hold is not set")
	}
	node, ours, other := cfg.Hold, uuid.NewString(), uuid.NewString()
	t.Cleanup(func() { k.cleanupHold(t, ours, node) })
	before := k.export(t, node)
	for _, call := range []string{"HoldNode", "HoldNode again (idempotent)"} {
		if err := k.driver().HoldNode(k.ctx(t), ours, node); err != nil {
			t.Fatalf("%s(%s): %v", call, node, err)
		}
		k.wantHeld(t, node, true)
	}
	if err := k.driver().HoldNode(k.ctx(t), other, node); !errors.Is(err, driver.ErrNotManageable) {
		t.Errorf("HoldNode by another migration of node %s, held = %v, want driver.ErrNotManageable", node, err)
	}
	if err := k.driver().ReleaseNode(k.ctx(t), other, node); !errors.Is(err, driver.ErrConflict) {
		t.Errorf("ReleaseNode by another migration of node %s, held = %v, want driver.ErrConflict", node, err)
	}
	k.wantExists(t, node, true)
	if err := k.driver().UnholdNode(k.ctx(t), other, node); err != nil {
		t.Errorf("UnholdNode by another migration of node %s = %v, want nil (left alone)", node, err)
	}
	k.wantHeld(t, node, true)
	if cfg.Maintenance != "" {
		if err := k.driver().UnholdNode(k.ctx(t), ours, cfg.Maintenance); err != nil {
			t.Errorf("UnholdNode of node %s, in maintenance for someone else = %v, want nil (left alone)", cfg.Maintenance, err)
		}
		k.wantHeld(t, cfg.Maintenance, true)
	}
	for _, call := range []string{"UnholdNode", "UnholdNode again"} {
		if err := k.driver().UnholdNode(k.ctx(t), ours, node); err != nil {
			t.Fatalf("%s(%s): %v", call, node, err)
		}
		k.wantHeld(t, node, false)
	}
	if err := k.driver().ReleaseNode(k.ctx(t), ours, node); !errors.Is(err, driver.ErrConflict) {
		t.Errorf("ReleaseNode of node %s once unheld = %v, want driver.ErrConflict", node, err)
	}
	k.wantUnchanged(t, node, before)
}

// holdAndRelease: release deletes the node this migration holds; a
// released node is gone for export, and releasing or unholding it again
// is done.
func (k *kit) holdAndRelease(t *testing.T, cfg *HandoffConfig) {
	if cfg.Release == "" {
		t.Skip("HandoffConfig.Release is not set")
	}
	node, ours := cfg.Release, uuid.NewString()
	t.Cleanup(func() { k.cleanupHold(t, ours, node) })
	if err := k.driver().HoldNode(k.ctx(t), ours, node); err != nil {
		t.Fatalf("HoldNode(%s): %v", node, err)
	}
	for _, call := range []string{"ReleaseNode", "ReleaseNode again (gone)"} {
		if err := k.driver().ReleaseNode(k.ctx(t), ours, node); err != nil {
			t.Fatalf("%s(%s): %v", call, node, err)
		}
	}
	if _, err := k.driver().ExportNode(k.ctx(t), node); !errors.Is(err, driver.ErrNodeNotFound) {
		t.Errorf("ExportNode(%s) once released = %v, want driver.ErrNodeNotFound", node, err)
	}
	k.wantExists(t, node, false)
	if err := k.driver().UnholdNode(k.ctx(t), ours, node); err != nil {
		t.Errorf("UnholdNode(%s) once released = %v, want nil (gone)", node, err)
	}
}

// export reads a node's export, failing the check when it cannot.
func (k *kit) export(t *testing.T, node string) driver.Export {
	t.Helper()
	exp, err := k.driver().ExportNode(k.ctx(t), node)
	if err != nil {
		t.Fatalf("ExportNode(%s): %v", node, err)
	}
	return exp
}

// wantHeld checks, through the export, whether the node is in maintenance.
func (k *kit) wantHeld(t *testing.T, node string, want bool) {
	t.Helper()
	if exp := k.export(t, node); exp.Maintenance != want {
		t.Errorf("node %s: maintenance %v, want %v", node, exp.Maintenance, want)
	}
}

// wantUnchanged checks that the node's export is what it was.
func (k *kit) wantUnchanged(t *testing.T, node string, before driver.Export) {
	t.Helper()
	if diff := cmp.Diff(before, k.export(t, node)); diff != "" {
		t.Errorf("node %s changed (-before +after):\n%s", node, diff)
	}
}

// cleanupHold unholds what a check may have left held, whatever failed.
func (k *kit) cleanupHold(t *testing.T, migration, node string) {
	// t.Context() is already cancelled when cleanups run.
	ctx, cancel := context.WithTimeout(context.Background(), k.cfg.Timeout)
	defer cancel()
	if err := k.driver().UnholdNode(ctx, migration, node); err != nil {
		t.Errorf("unholding node %s (migration %s) after the checks: %v; take it out of maintenance by hand", node, migration, err)
	}
}
