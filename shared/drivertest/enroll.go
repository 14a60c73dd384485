package drivertest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// EnrollConfig describes what the kit needs to check the enroll
// capability against a test backend. The checks CREATE AND DELETE NODES
// in it: set it only for a backend that is yours.
type EnrollConfig struct {
	// Machine returns a machine the backend can enroll and take to
	// adopted without a real BMC (Ironic: fake-hardware), with the values
	// of its secrets: a fresh name and fresh MACs at every call.
	Machine func() (driver.Machine, map[string]string)
	// TakenMAC is the MAC of a port the backend already has, TakenName
	// the name of a node it already has: enrolling a machine with either
	// must be a conflict naming it.
	TakenMAC, TakenName string
	// ForeignNode is the uuid of a node the backend has that no migration
	// enrolled: DeleteEnrolled must refuse it and leave it as it is.
	ForeignNode string
	// MaxCalls bounds the EnrollNode calls from nothing to done; zero
	// means 10. Each call must advance one transition: a backend whose
	// transition outlasts Config.Timeout needs more.
	MaxCalls int
}

// enroll checks the enroll capability: one transition a call up to done,
// idempotent by node uuid, a conflict on a MAC or a name, undo of what it
// created only.
func (k *kit) enroll(t *testing.T) {
	cfg := k.cfg.Enroll
	if cfg.MaxCalls <= 0 {
		cfg.MaxCalls = 10
	}
	var done enrolled
	parent := t // the enrolled node is undone when every check of it ran
	t.Run("one transition a call up to done", func(t *testing.T) { done = k.enrollToDone(t, parent, cfg) })
	// The checks of a done node run whenever one got done, rules broken
	// on the way or not.
	ok := done.req.NodeUUID != ""
	t.Run("idempotent by node uuid", func(t *testing.T) {
		if !ok {
			t.Skip("needs an enrolled node")
		}
		k.enrollAgain(t, done)
	})
	t.Run("a MAC already used is a conflict naming it", func(t *testing.T) {
		k.enrollConflict(t, cfg, cfg.TakenMAC, func(m *driver.Machine) { m.Ports[0].MAC = cfg.TakenMAC })
	})
	t.Run("a name already used is a conflict naming it", func(t *testing.T) {
		k.enrollConflict(t, cfg, cfg.TakenName, func(m *driver.Machine) { m.Name = cfg.TakenName })
	})
	t.Run("undo only what it created", func(t *testing.T) {
		if !ok {
			t.Skip("needs an enrolled node")
		}
		k.undoOnlyOwn(t, cfg, done)
	})
}

// enrolled is a node the kit enrolled.
type enrolled struct {
	req   driver.EnrollRequest
	state driver.EnrollState
}

// newEnrollRequest is a fresh machine under a fresh migration and node
// uuid.
func newEnrollRequest(cfg *EnrollConfig) driver.EnrollRequest {
	m, secrets := cfg.Machine()
	return driver.EnrollRequest{MigrationID: uuid.NewString(), NodeUUID: uuid.NewString(), Machine: m, Secrets: secrets}
}

// enrollToDone calls EnrollNode until done: every answer is a step on
// from the one before (one transition, and only one, a call when an
// Observer can tell), the first is not done (creating the node is a
// transition of its own), and done comes within MaxCalls.
func (k *kit) enrollToDone(t, parent *testing.T, cfg *EnrollConfig) enrolled {
	req := newEnrollRequest(cfg)
	if len(req.Machine.Ports) == 0 {
		t.Fatal("EnrollConfig.Machine must describe a machine with at least one port")
	}
	parent.Cleanup(func() { k.cleanupEnrolled(parent, req) })
	k.observed() // what came before is not this check's
	var prev driver.EnrollState
	for call := 1; ; call++ {
		st, err := k.driver().EnrollNode(k.ctx(t), req)
		if err != nil {
			t.Fatalf("EnrollNode call %d: %v", call, err)
		}
		if n := k.transitions(k.observed()); n > 1 {
			t.Errorf("EnrollNode call %d made %d transitions of the node; one a call", call, n)
		}
		switch {
		case call == 1 && st.Done:
			t.Errorf("the first EnrollNode call answered done (%+v): creating the node is a transition of its own", st)
		case call > 1 && st == prev:
			t.Errorf("EnrollNode call %d answered %+v again: each call advances one transition", call, st)
		case st.ProvisionState == "":
			t.Errorf("EnrollNode call %d answered no provision state: %+v", call, st)
		}
		prev = st
		if st.Done {
			if !st.Protected {
				t.Errorf("EnrollNode answered done but not protected: %+v", st)
			}
			if call < 3 {
				t.Errorf("done after %d calls: creating, the backend's adoption and the protection are a call each at least", call)
			}
			k.wantExists(t, req.NodeUUID, true)
			return enrolled{req: req, state: st}
		}
		if call >= cfg.MaxCalls {
			t.Fatalf("not done after %d EnrollNode calls (last %+v)", call, st)
		}
	}
}

// enrollAgain calls EnrollNode for a done node: done again, nothing
// changed; and the same node uuid under another migration is a conflict.
func (k *kit) enrollAgain(t *testing.T, e enrolled) {
	k.observed()
	st, err := k.driver().EnrollNode(k.ctx(t), e.req)
	if err != nil {
		t.Fatalf("EnrollNode of a done node: %v", err)
	}
	if diff := cmp.Diff(e.state, st); diff != "" {
		t.Errorf("EnrollNode of a done node answered (-before +again):\n%s", diff)
	}
	if n := k.transitions(k.observed()); n != 0 {
		t.Errorf("EnrollNode of a done node made %d transitions", n)
	}
	other := e.req
	other.MigrationID = uuid.NewString()
	if _, err := k.driver().EnrollNode(k.ctx(t), other); !errors.Is(err, driver.ErrConflict) {
		t.Errorf("EnrollNode of node %s under another migration = %v, want driver.ErrConflict", e.req.NodeUUID, err)
	}
	if st, err := k.driver().EnrollNode(k.ctx(t), e.req); err != nil || !st.Done {
		t.Errorf("EnrollNode after another migration's refusal = %+v, %v; want done", st, err)
	}
}

// enrollConflict enrolls a machine changed by change to use something the
// backend has: the creation must be a conflict naming what; after the
// undo nothing of it is left.
func (k *kit) enrollConflict(t *testing.T, cfg *EnrollConfig, what string, change func(*driver.Machine)) {
	if what == "" {
		t.Skip("EnrollConfig does not name one")
	}
	req := newEnrollRequest(cfg)
	change(&req.Machine)
	t.Cleanup(func() { k.cleanupEnrolled(t, req) })
	var err error
	for call := 1; call <= 2 && err == nil; call++ {
		_, err = k.driver().EnrollNode(k.ctx(t), req)
	}
	if !errors.Is(err, driver.ErrConflict) {
		t.Fatalf("EnrollNode with %s already used = %v, want driver.ErrConflict", what, err)
	}
	if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(what)) {
		t.Errorf("the conflict %q does not name %s", err, what)
	}
	if err := k.driver().DeleteEnrolled(k.ctx(t), req.MigrationID, req.NodeUUID); err != nil {
		t.Errorf("DeleteEnrolled after the conflict: %v", err)
	}
	k.wantExists(t, req.NodeUUID, false)
}

// undoOnlyOwn: DeleteEnrolled refuses a node no migration enrolled and
// one another migration enrolled, leaving both as they were; it deletes
// its own, and a node that is gone is success.
func (k *kit) undoOnlyOwn(t *testing.T, cfg *EnrollConfig, e enrolled) {
	stranger := uuid.NewString()
	if cfg.ForeignNode != "" {
		before := k.nodeView(t, cfg.ForeignNode)
		if err := k.driver().DeleteEnrolled(k.ctx(t), stranger, cfg.ForeignNode); !errors.Is(err, driver.ErrConflict) {
			t.Errorf("DeleteEnrolled of node %s, which no migration enrolled = %v, want driver.ErrConflict", cfg.ForeignNode, err)
		}
		if diff := cmp.Diff(before, k.nodeView(t, cfg.ForeignNode)); diff != "" {
			t.Errorf("DeleteEnrolled changed node %s, which it refused (-before +after):\n%s", cfg.ForeignNode, diff)
		}
	}
	if err := k.driver().DeleteEnrolled(k.ctx(t), stranger, e.req.NodeUUID); !errors.Is(err, driver.ErrConflict) {
		t.Errorf("DeleteEnrolled of node %s by another migration = %v, want driver.ErrConflict", e.req.NodeUUID, err)
	}
	k.wantExists(t, e.req.NodeUUID, true)
	if st, err := k.driver().EnrollNode(k.ctx(t), e.req); err != nil || !st.Done {
		t.Errorf("the node after another migration's refused undo = %+v, %v; want it done as it was", st, err)
	}
	for _, what := range []string{"DeleteEnrolled", "DeleteEnrolled of a node that is gone"} {
		if err := k.driver().DeleteEnrolled(k.ctx(t), e.req.MigrationID, e.req.NodeUUID); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	k.wantExists(t, e.req.NodeUUID, false)
}

// nodeView is what the kit can read of a node through the driver: its
// state (node_states) and its listing entry (discover).
func (k *kit) nodeView(t *testing.T, id string) any {
	t.Helper()
	var view struct {
		State driver.NodeState
		Node  driver.Node
	}
	if k.has(driver.CapabilityStates) {
		st, err := k.states(t, []string{id})
		if err != nil {
			t.Fatalf("GetNodeStates(%s): %v", id, err)
		}
		view.State = st[id]
	}
	if k.has(driver.CapabilityDiscover) {
		n, err := k.driver().GetManageableNode(k.ctx(t), id)
		if err != nil && !errors.Is(err, driver.ErrNodeNotFound) {
			t.Fatalf("GetManageableNode(%s): %v", id, err)
		}
		view.Node = n
	}
	return view
}

// wantExists checks, through GetNodeStates when the driver has it,
// whether the backend has the node.
func (k *kit) wantExists(t *testing.T, id string, want bool) {
	t.Helper()
	if !k.has(driver.CapabilityStates) {
		return
	}
	st, err := k.states(t, []string{id})
	if err != nil {
		t.Errorf("GetNodeStates(%s): %v", id, err)
		return
	}
	if st[id].Exists != want {
		t.Errorf("node %s exists %v, want %v", id, st[id].Exists, want)
	}
}

// cleanupEnrolled undoes what a check enrolled, whatever failed.
func (k *kit) cleanupEnrolled(t *testing.T, req driver.EnrollRequest) {
	// t.Context() is already cancelled when cleanups run.
	ctx, cancel := context.WithTimeout(context.Background(), k.cfg.Timeout)
	defer cancel()
	if err := k.driver().DeleteEnrolled(ctx, req.MigrationID, req.NodeUUID); err != nil {
		t.Errorf("undoing the enrollment of node %s (migration %s) after the checks: %v; delete it by hand",
			req.NodeUUID, req.MigrationID, err)
	}
}

// observed returns the backend requests since the last call, all of them
// kept for the run's forbidden-verb check; none without an Observer.
func (k *kit) observed() []BackendRequest {
	if k.cfg.Observer == nil {
		return nil
	}
	reqs := k.cfg.Observer.Requests()
	k.seen = append(k.seen, reqs...)
	return reqs
}

// transitions counts the requests that move a node, as the Observer
// tells (0 without one).
func (k *kit) transitions(reqs []BackendRequest) int {
	if k.cfg.Observer == nil {
		return 0
	}
	n := 0
	for _, r := range reqs {
		if k.cfg.Observer.Transition(r) {
			n++
		}
	}
	return n
}

// noForbiddenVerb checks every backend request of the run.
func (k *kit) noForbiddenVerb(t *testing.T) {
	k.observed()
	if len(k.seen) == 0 {
		t.Error("the Observer saw no request: is the driver configured to go through it?")
	}
	for _, r := range k.seen {
		if why := k.cfg.Observer.Forbidden(r); why != "" {
			t.Errorf("the driver sent %s: %s", r, why)
		}
	}
}
