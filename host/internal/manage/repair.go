package manage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/host/internal/metrics"
	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// repairConcurrency bounds the intents repaired at once.
const repairConcurrency = 8

// errRepairFailed marks an adoption the repair pass rolled back, for its
// .error notification.
var errRepairFailed = errors.New("the adoption was interrupted (the host stopped mid-way) and has been rolled back")

// RepairReport counts what a repair pass did.
type RepairReport struct {
	Completed, RolledBack, Released, Left int
	// Intents says what became of each intent, in the order taken.
	Intents []IntentRepair
}

// Recover is the repair pass at start, before the API listens: it takes
// this replica's own unfinished intents (whatever it was doing died with
// its previous process) and every intent whose lease expired, and
// finishes or rolls back each by asking the driver and Neutron what really
// happened. What cannot be resolved now (its backend is down) is left to
// the reconciler.
func (s *Service) Recover(ctx context.Context) (RepairReport, error) {
	return s.repairAll(ctx, true)
}

func (s *Service) repairAll(ctx context.Context, atStart bool) (RepairReport, error) {
	intents, err := s.store.TakeOver(ctx, s.owner, s.leaseUntil(), atStart)
	if err != nil {
		return RepairReport{}, fmt.Errorf("finding intents to repair: %w", err)
	}
	var rep RepairReport
	if len(intents) == 0 {
		return rep, nil
	}
	results := make([]repairResult, len(intents))
	g, gctx := errgroup.WithContext(context.WithoutCancel(ctx))
	g.SetLimit(repairConcurrency)
	for i, in := range intents {
		g.Go(func() error {
			rctx, cancel := context.WithTimeout(gctx, s.repairFor)
			defer cancel()
			// The driver and the services see the id of the request
			// that began it.
			if requestid.Valid(in.RequestID) {
				rctx = requestid.With(rctx, in.RequestID)
			}
			results[i] = s.repair(rctx, in)
			return nil
		})
	}
	_ = g.Wait() // repair reports through results
	for i, r := range results {
		in := intents[i]
		log := s.log.With("server_uuid", in.ServerUUID, "node_uuid", in.NodeUUID, "action", in.Action, "request_id", in.RequestID)
		rep.Intents = append(rep.Intents, describeRepair(in, r, ""))
		switch {
		case r.err != nil:
			rep.Left++
			log.Warn("could not repair an interrupted "+in.Action+"; the reconciler will retry", "error", r.err)
			if err := s.store.SetIntentState(ctx, in.ServerUUID, s.owner, store.IntentRetry, r.err.Error()); err != nil {
				log.Error("recording the failed repair", "error", err)
			}
		case r.outcome == outcomeCompleted:
			rep.Completed++
			log.Info("repaired an interrupted adoption: completed it")
		case r.outcome == outcomeRolledBack:
			rep.RolledBack++
			log.Info("repaired an interrupted adoption: rolled it back")
		case r.outcome == outcomeReleased:
			rep.Released++
			log.Info("repaired an interrupted release: finished it")
		}
	}
	s.metrics.Recoveries(metrics.RecoveryCompleted, rep.Completed)
	s.metrics.Recoveries(metrics.RecoveryRolledBack, rep.RolledBack)
	s.metrics.Recoveries(metrics.RecoveryReleased, rep.Released)
	s.metrics.Recoveries(metrics.RecoveryLeft, rep.Left)
	return rep, nil
}

type repairOutcome int

const (
	outcomeCompleted repairOutcome = iota + 1
	outcomeRolledBack
	outcomeReleased
)

type repairResult struct {
	outcome repairOutcome
	err     error
}

// repair finishes or rolls back one intent this replica now owns.
func (s *Service) repair(ctx context.Context, in store.Intent) repairResult {
	caller := Caller{RequestID: in.RequestID, UserID: in.UserID, ProjectID: in.ProjectID}
	// What to do is decided first, reading only (recoverplan.go), so
	// that recover --dry-run reports exactly what this does.
	d, err := s.decide(ctx, in)
	if err != nil {
		return repairResult{err: err}
	}
	rec := d.rec
	switch d.outcome {
	case outcomeReleased:
		if rec.UUID == "" {
			_, err = s.store.EndIntent(ctx, in, store.Outcome{})
			return repairResult{outcome: outcomeReleased, err: err}
		}
		if err := s.release(ctx, in, rec); err != nil {
			return repairResult{err: err}
		}
		s.notifyServer(ctx, caller, eventUnmanageEnd, serverFromRecord(rec), nil)
		return repairResult{outcome: outcomeReleased}
	case outcomeCompleted:
		done, err := s.complete(ctx, in, rec, d.state)
		if err != nil {
			return repairResult{err: err}
		}
		s.notifyServer(ctx, caller, eventManageEnd, done, nil)
		return repairResult{outcome: outcomeCompleted}
	}
	if err := s.rollback(ctx, in, repairCause(in)); err != nil {
		return repairResult{err: err}
	}
	srv := serverFromRecord(rec)
	if rec.UUID == "" {
		srv = Server{UUID: in.ServerUUID, NodeUUID: in.NodeUUID}
	}
	s.notifyServer(ctx, caller, eventManageError, srv, errRepairFailed)
	return repairResult{outcome: outcomeRolledBack}
}

// repairCause is why a repaired adoption was rolled back, for its action:
// interrupted, or failed earlier with an undo that had to wait (its last
// error says why).
func repairCause(in store.Intent) error {
	if in.State == store.IntentRetry && in.LastError != "" {
		return fmt.Errorf("the adoption failed and could not be undone at once (%s); it has been rolled back", in.LastError)
	}
	return errRepairFailed
}

type association struct {
	ok    bool
	state driver.NodeState
}

// associatedWith asks the driver whether the node names the server. A
// driver that cannot say (Unimplemented) gets the safe answer, no: the
// adoption is rolled back, and Unmanage releases the node only if it does
// name the server.
func (s *Service) associatedWith(ctx context.Context, nodeUUID, serverUUID string) (association, error) {
	states, err := s.driver.GetNodeStates(ctx, []string{nodeUUID})
	if errors.Is(err, driver.ErrNotImplemented) {
		return association{}, nil
	}
	if err != nil {
		return association{}, fmt.Errorf("reading node %s: %w", nodeUUID, err)
	}
	for _, st := range states {
		if st.NodeUUID == nodeUUID && st.Exists && st.InstanceUUID == serverUUID {
			return association{ok: true, state: st}, nil
		}
	}
	return association{}, nil
}

// complete finishes an adoption whose node the driver associated: the
// ports its steps bound are bound again (idempotent; their answer gives
// the addresses) and the server recorded.
func (s *Service) complete(ctx context.Context, in store.Intent, rec store.Server, st driver.NodeState) (Server, error) {
	var data manageData
	var plan []PortBinding
	var bound []neutron.Port
	for _, step := range in.Steps {
		switch step.Name {
		case stepManage:
			if err := json.Unmarshal(step.Data, &data); err != nil {
				return Server{}, fmt.Errorf("manage step of server %s: %w", in.ServerUUID, err)
			}
		case stepBind:
			var b PortBinding
			if err := json.Unmarshal(step.Data, &b); err != nil {
				return Server{}, fmt.Errorf("bind step of server %s: %w", in.ServerUUID, err)
			}
			if s.networks == nil {
				return Server{}, fmt.Errorf("port %s was bound but [neutron] is no longer configured", b.PortID)
			}
			port, err := s.networks.Bind(ctx, b.PortID, in.NodeUUID, vnicBaremetal)
			if err != nil && !errors.Is(err, neutron.ErrPortNotFound) {
				return Server{}, upstreamError(err)
			}
			if err == nil {
				bound = append(bound, port)
				plan = append(plan, b)
			}
		}
	}
	a := &adoption{s: s, in: in, rec: rec, log: s.log}
	return a.record(ctx, st.PowerState, data.ImageUUID, data.NodeName, plan, bound)
}
