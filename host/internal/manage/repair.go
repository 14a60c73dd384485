package manage

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/host/internal/metrics"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/host/internal/workflow"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// repairConcurrency bounds the intents repaired at once.
const repairConcurrency = 8

// RepairReport counts what a repair pass did.
type RepairReport struct {
	Completed, RolledBack, Released, Resumed, Left int
	// Intents says what became of each intent, in the order taken.
	Intents []IntentRepair
}

// Recover is the repair pass at start, before the API listens: it takes
// the intents of this replica's earlier starts (whatever they were doing
// died with them) and every intent whose lease expired, and finishes or
// rolls back each by asking the driver and Neutron what really happened.
// What cannot be resolved now (its backend is down) is left to the
// reconciler.
func (s *Service) Recover(ctx context.Context) (RepairReport, error) {
	return s.repairAll(ctx)
}

func (s *Service) repairAll(ctx context.Context) (RepairReport, error) {
	var rep RepairReport
	if !s.lockHeld() {
		// Without the host lock another process with this host may be
		// running: taking "our" intents could take its own.
		s.log.Warn("not repairing intents: this replica does not hold its host lock now (its database connection is lost)")
		return rep, nil
	}
	intents, err := s.store.TakeOver(ctx, s.owner, s.epoch, s.leaseUntil())
	if err != nil {
		return RepairReport{}, fmt.Errorf("finding intents to repair: %w", err)
	}
	if len(intents) == 0 {
		return rep, nil
	}
	results := make([]repairResult, len(intents))
	g, gctx := errgroup.WithContext(context.WithoutCancel(ctx))
	g.SetLimit(repairConcurrency)
	for i, in := range intents {
		if in.Action == store.ActionMigrate {
			continue // after the adoptions, below
		}
		untrack := s.working.track(in.ServerUUID)
		g.Go(func() error {
			defer untrack()
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
	// A migration carries on from its journal, in the runner (it may take
	// long: enroll_timeout), once the adoptions are settled: its adopt
	// step's own adoption may be among them.
	for i, in := range intents {
		if in.Action == store.ActionMigrate {
			results[i] = repairResult{outcome: outcomeResumed, err: s.resumeMigration(ctx, in)}
		}
	}
	for i, r := range results {
		in := intents[i]
		log := s.log.With("server_uuid", in.ServerUUID, "node_uuid", in.NodeUUID, "backend", in.Backend, "action", in.Action,
			"request_id", in.RequestID)
		rep.Intents = append(rep.Intents, describeRepair(in, r, ""))
		s.metrics.Recoveries(in.Backend, r.label(), 1)
		switch {
		case r.err != nil && workflow.IsFenced(r.err):
			rep.Left++
			log.Warn("another replica took this intent over while it was repaired; leaving it to that replica", "error", r.err)
		case r.err != nil:
			rep.Left++
			log.Warn("could not repair an interrupted "+in.Action+"; the reconciler will retry", "error", r.err)
			switch err := s.store.SetIntentState(ctx, in, store.IntentRetry, r.err.Error()); {
			case workflow.IsFenced(err):
				log.Warn("another replica took this intent over; leaving it to that replica")
			case err != nil:
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
		case r.outcome == outcomeResumed:
			rep.Resumed++
			log.Info("took over an interrupted migration: it carries on")
		}
	}
	return rep, nil
}

type repairOutcome int

const (
	outcomeCompleted repairOutcome = iota + 1
	outcomeRolledBack
	outcomeReleased
	outcomeResumed
)

type repairResult struct {
	outcome repairOutcome
	err     error
}

// label is the result's recoveries metric label.
func (r repairResult) label() string {
	switch {
	case r.err != nil:
		return metrics.RecoveryLeft
	case r.outcome == outcomeCompleted:
		return metrics.RecoveryCompleted
	case r.outcome == outcomeReleased:
		return metrics.RecoveryReleased
	case r.outcome == outcomeResumed:
		return metrics.RecoveryResumed
	}
	return metrics.RecoveryRolledBack
}

// repair finishes or rolls back one intent this replica now holds, as
// the step table decides.
func (s *Service) repair(ctx context.Context, in store.Intent) repairResult {
	caller := Caller{RequestID: in.RequestID, UserID: in.UserID, ProjectID: in.ProjectID}
	// What to do is decided first, reading only, so that recover
	// --dry-run reports exactly what this does.
	run, d, err := s.decide(ctx, in)
	if err != nil {
		return repairResult{err: err}
	}
	j := run.Env()
	switch outcome := outcomeOf(in, d.Verdict); outcome {
	case outcomeReleased:
		if err := s.release(ctx, run); err != nil {
			return repairResult{err: err}
		}
		if j.rec.UUID != "" {
			s.notifyServer(ctx, caller, eventUnmanageEnd, serverFromRecord(j.rec), nil)
		}
		return repairResult{outcome: outcome}
	case outcomeCompleted:
		if err := run.Resume(ctx); err != nil {
			return repairResult{err: err}
		}
		done, err := s.record(ctx, run)
		if err != nil {
			return repairResult{err: err}
		}
		s.notifyServer(ctx, caller, eventManageEnd, done, nil)
		return repairResult{outcome: outcome}
	}
	if err := s.rollback(ctx, run, repairCause(in)); err != nil {
		return repairResult{err: err}
	}
	srv := serverFromRecord(j.rec)
	if j.rec.UUID == "" {
		srv = Server{UUID: in.ServerUUID, NodeUUID: in.NodeUUID}
	}
	s.notifyServer(ctx, caller, eventManageError, srv, ErrInterrupted)
	return repairResult{outcome: outcomeRolledBack}
}

// repairCause is why a repaired adoption was rolled back, for its action:
// interrupted, or failed earlier with an undo that had to wait (its last
// error says why).
func repairCause(in store.Intent) error {
	if in.State == store.IntentRetry && in.LastError != "" {
		return fmt.Errorf("the adoption failed and could not be undone at once (%s); it has been rolled back", in.LastError)
	}
	return ErrInterrupted
}

// associatedWith asks the driver whether the node names the server, and
// its state. A driver that cannot say (Unimplemented) gets the safe
// answer, no: the adoption is rolled back, and Unmanage releases the node
// only if it does name the server.
func associatedWith(ctx context.Context, drv driver.Full, nodeUUID, serverUUID string) (driver.NodeState, bool, error) {
	states, err := drv.GetNodeStates(ctx, []string{nodeUUID})
	if errors.Is(err, driver.ErrNotImplemented) {
		return driver.NodeState{}, false, nil
	}
	if err != nil {
		return driver.NodeState{}, false, fmt.Errorf("reading node %s: %w", nodeUUID, err)
	}
	for _, st := range states {
		if st.NodeUUID == nodeUUID && st.Exists && st.InstanceUUID == serverUUID {
			return st, true, nil
		}
	}
	return driver.NodeState{}, false, nil
}
