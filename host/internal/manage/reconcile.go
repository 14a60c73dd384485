package manage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// syncPage is how many servers one power-sync batch reads.
const syncPage = driver.MaxNodeStates

// KeepLeases renews the leases of the intents this process is working on
// every third of a lease until ctx is done. It starts before the repair pass (Recover), whose
// repairs may outlast a lease, and runs for the life of the process.
func (s *Service) KeepLeases(ctx context.Context) {
	renew := time.NewTicker(s.lease / 3)
	defer renew.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-renew.C:
			if err := s.store.RenewLeases(ctx, s.owner, s.epoch, s.working.list(), s.leaseUntil()); err != nil && ctx.Err() == nil {
				s.log.Error("renewing this replica's intent leases failed; another replica may repair them", "error", err)
			}
		}
	}
}

// Run reconciles every ReconcileInterval until ctx is done; with a zero
// interval it returns at once. The first reconciliation runs at once. It
// starts after the repair pass (Recover), which it must not overlap: both
// would take this replica's intents that wait for a retry.
func (s *Service) Run(ctx context.Context) {
	if s.interval <= 0 {
		return
	}
	t := time.NewTicker(s.interval)
	defer t.Stop()
	s.reconcileLogged(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.reconcileLogged(ctx)
		}
	}
}

func (s *Service) reconcileLogged(ctx context.Context) {
	rep, err := s.Reconcile(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Error("reconciling failed; next try at the next interval", "error", err)
	}
	if !rep.empty() {
		s.log.Info("reconciled", "completed", rep.Completed, "rolled_back", rep.RolledBack, "released", rep.Released, "resumed", rep.Resumed,
			"left", rep.Left, "late_claims_released", rep.LateReleased, "bindings_repaired", rep.BindingsRepaired,
			"servers_changed", rep.ServersChanged)
	}
}

// ReconcileReport counts what a reconciliation did.
type ReconcileReport struct {
	RepairReport
	// LateReleased counts nodes released from a rolled-back server uuid a
	// late request associated them with.
	LateReleased int
	// BindingsRepaired counts Neutron ports put back to their wanted
	// binding (binding tombstones).
	BindingsRepaired int
	// ServersChanged counts servers whose status or power state changed.
	ServersChanged int
}

// empty reports a pass that did nothing (not worth a log line).
func (r ReconcileReport) empty() bool {
	return r.Completed+r.RolledBack+r.Released+r.Resumed+r.Left+r.LateReleased+r.BindingsRepaired+r.ServersChanged == 0
}

// Reconcile runs one pass: repair intents whose owner died (lease
// expired) or that wait for a retry; release nodes that late requests
// claimed for tombstoned server uuids; put tombstoned Neutron ports back
// to their wanted binding; sync adopted servers with their nodes. Each
// part goes on when another fails; the errors are joined.
func (s *Service) Reconcile(ctx context.Context) (ReconcileReport, error) {
	var rep ReconcileReport
	var errs []error
	var err error
	if rep.RepairReport, err = s.repairAll(ctx); err != nil {
		errs = append(errs, err)
	}
	if rep.LateReleased, err = s.releaseLateClaims(ctx); err != nil {
		errs = append(errs, fmt.Errorf("tombstones: %w", err))
	}
	if rep.BindingsRepaired, err = s.repairBindings(ctx); err != nil {
		errs = append(errs, fmt.Errorf("binding tombstones: %w", err))
	}
	if _, err = s.undoLateMigrations(ctx); err != nil {
		errs = append(errs, fmt.Errorf("migration tombstones: %w", err))
	}
	if rep.ServersChanged, err = s.syncServers(ctx); err != nil {
		errs = append(errs, fmt.Errorf("syncing servers: %w", err))
	}
	return rep, errors.Join(errs...)
}

// releaseLateClaims reads each node with a tombstone younger than the
// retention, on its backend, and releases it when the tombstoned server
// uuid claims it; older tombstones are purged. Only tombstoned nodes are
// read, never the whole inventory.
func (s *Service) releaseLateClaims(ctx context.Context) (int, error) {
	since := s.now().Add(-s.retention)
	if _, err := s.store.PurgeTombstones(ctx, since); err != nil {
		return 0, err
	}
	released := 0
	for {
		ts, err := s.store.Tombstones(ctx, since, syncPage)
		if err != nil {
			return released, err
		}
		if len(ts) == 0 {
			return released, nil
		}
		refs := make([]nodeRef, len(ts))
		for i, t := range ts {
			refs[i] = nodeRef{t.Backend, t.NodeUUID}
		}
		states, readErr := s.nodeStates(ctx, refs)
		var errs []error
		for _, t := range ts {
			ref := nodeRef{t.Backend, t.NodeUUID}
			st, read := states.lookup(ref)
			switch {
			case read && (!st.Exists || st.InstanceUUID != t.ServerUUID):
				continue
			case !read && !states.cannotRead(t.Backend):
				continue // its backend is down (or gone): the next pass
			}
			if _, err := s.store.ServerByNode(ctx, t.NodeUUID); err == nil {
				continue // a server holds the node now; its uuid is not the tombstone's
			}
			drv, err := s.driverOf(t.Backend)
			if err == nil {
				// Without reads, each is released: Unmanage checks the claim.
				err = drv.Unmanage(ctx, driver.ManageRequest{NodeUUID: t.NodeUUID, ServerUUID: t.ServerUUID})
			}
			if err != nil && !errors.Is(err, driver.ErrNodeNotFound) {
				errs = append(errs, fmt.Errorf("releasing node %s from rolled-back server %s: %w", t.NodeUUID, t.ServerUUID, err))
				continue
			}
			if read { // with reads, this was a real late claim
				released++
				s.log.Warn("released a node a late request had associated with a rolled-back server",
					"node_uuid", t.NodeUUID, "backend", t.Backend, "server_uuid", t.ServerUUID)
			}
		}
		if err := errors.Join(append(errs, readErr)...); err != nil || len(ts) < syncPage {
			return released, err
		}
		since = ts[len(ts)-1].CreatedAt.Add(time.Microsecond)
	}
}

// nodeRef is a node of a backend.
type nodeRef struct{ backend, node string }

// nodeStatesByRef are nodes' states as their backends answered; a
// backend whose driver cannot read them (Unimplemented) is listed in
// unreadable.
type nodeStatesByRef struct {
	states     map[nodeRef]driver.NodeState
	unreadable map[string]bool
}

func (n nodeStatesByRef) cannotRead(backend string) bool { return n.unreadable[backend] }

// nodeStates reads refs' states, batched per backend (at most
// MaxNodeStates each, as a page is). A backend that is down or no longer
// configured is an error joined into the result, without stopping the
// others: its nodes are simply not in the map.
func (s *Service) nodeStates(ctx context.Context, refs []nodeRef) (nodeStatesByRef, error) {
	out := nodeStatesByRef{states: map[nodeRef]driver.NodeState{}, unreadable: map[string]bool{}}
	byBackend := map[string][]string{}
	for _, r := range refs {
		byBackend[r.backend] = append(byBackend[r.backend], r.node)
	}
	var errs []error
	for backend, nodes := range byBackend {
		drv, err := s.driverOf(backend)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		states, err := drv.GetNodeStates(ctx, nodes)
		switch {
		case errors.Is(err, driver.ErrNotImplemented):
			out.unreadable[backend] = true
		case err != nil:
			errs = append(errs, fmt.Errorf("backend %q: %w", backend, err))
		default:
			for _, st := range states {
				out.states[nodeRef{backend, st.NodeUUID}] = st
			}
		}
	}
	return out, errors.Join(errs...)
}

// lookup is a node's state, and whether its backend answered for it.
func (n nodeStatesByRef) lookup(r nodeRef) (driver.NodeState, bool) {
	st, ok := n.states[r]
	return st, ok
}

// syncServers keeps settled servers true to their nodes: power state and
// status from their backend's driver, error with a fault when the node is
// gone or no longer theirs. Servers with an intent in progress are left to
// it; a backend that is down is left for the next pass, the others synced.
func (s *Service) syncServers(ctx context.Context) (int, error) {
	changed := 0
	marker := ""
	var errs []error
	for {
		page, err := s.store.ListServers(ctx, store.ListOptions{Limit: syncPage, Marker: marker})
		if err != nil {
			return changed, errors.Join(append(errs, err)...)
		}
		if len(page) == 0 {
			return changed, errors.Join(errs...)
		}
		refs := make([]nodeRef, 0, len(page))
		for _, srv := range page {
			refs = append(refs, nodeRef{srv.Backend, srv.NodeUUID})
		}
		states, err := s.nodeStates(ctx, refs)
		if err != nil {
			errs = append(errs, err)
		}
		for _, srv := range page {
			st, ok := states.lookup(nodeRef{srv.Backend, srv.NodeUUID})
			if !ok || srv.Status == store.StatusBuilding {
				continue
			}
			status, power, fault := s.judge(srv, st)
			if status == srv.Status && power == srv.PowerState && fault == srv.Fault {
				continue
			}
			if err := s.store.SetServerState(ctx, srv.UUID, status, power, fault); err != nil {
				return changed, errors.Join(append(errs, err)...)
			}
			changed++
			s.log.Info("server changed on its node", "server_uuid", srv.UUID, "node_uuid", srv.NodeUUID, "backend", srv.Backend,
				"status", status, "power_state", power, "fault", fault)
		}
		if len(page) < syncPage {
			return changed, errors.Join(errs...)
		}
		marker = page[len(page)-1].UUID
	}
}

// judge is a settled server's status, power state and fault given its
// node's state.
func (s *Service) judge(srv store.Server, st driver.NodeState) (status, power, fault string) {
	switch {
	case !st.Exists:
		return store.StatusError, srv.PowerState, fmt.Sprintf("node %s no longer exists in the driver's backend", srv.NodeUUID)
	case st.InstanceUUID != srv.UUID:
		owner := st.InstanceUUID
		if owner == "" {
			owner = "none"
		}
		return store.StatusError, st.PowerState, fmt.Sprintf(
			"node %s is no longer associated with this server (its instance_uuid is %s)", srv.NodeUUID, owner)
	}
	return statusFor(st.PowerState), st.PowerState, ""
}
