package manage

import (
	"context"
	"errors"
	"fmt"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/host/internal/workflow"
)

// Unmanage releases a server: the driver forgets the association, the
// Neutron ports get their previous binding back, the record goes. The
// machine is not touched, and a node another instance holds now keeps its
// ports as they are. A server whose adoption is in progress or being
// repaired is ErrBusy. Once begun, a release is only ever finished, never
// undone: when a step fails the intent stays and the reconciler finishes
// it.
func (s *Service) Unmanage(ctx context.Context, caller Caller, serverUUID string) error {
	rec, err := s.store.GetServer(ctx, serverUUID)
	if errors.Is(err, store.ErrNotFound) {
		return &refusal{kind: ErrServerNotFound, msg: fmt.Sprintf("Server %s could not be found.", serverUUID)}
	}
	if err != nil {
		return storeError(err)
	}
	if _, err := s.driverOf(rec.Backend); err != nil {
		return err
	}
	in := store.Intent{
		ServerUUID: rec.UUID, NodeUUID: rec.NodeUUID, Backend: rec.Backend, Action: store.ActionUnmanage, RequestID: caller.RequestID,
		UserID: caller.UserID, ProjectID: caller.ProjectID, Owner: s.owner, OwnerEpoch: s.epoch, LeaseExpiresAt: s.leaseUntil(),
	}
	switch err := s.store.BeginRelease(ctx, in); {
	case errors.Is(err, store.ErrIntentExists):
		return s.busy(ctx, rec)
	case errors.Is(err, store.ErrNotFound):
		return &refusal{kind: ErrServerNotFound, msg: fmt.Sprintf("Server %s could not be found.", serverUUID)}
	case err != nil:
		return storeError(err)
	}
	defer s.working.track(rec.UUID)()
	srv := serverFromRecord(rec)
	s.notifyServer(ctx, caller, eventUnmanageStart, srv, nil)
	run := s.run(s.newJob(in, rec))
	if err := s.release(ctx, run); err != nil {
		s.notifyServer(ctx, caller, eventUnmanageError, srv, err)
		return s.releaseFailed(ctx, run, err)
	}
	s.log.Info("node released", "node_uuid", rec.NodeUUID, "server_uuid", rec.UUID, "request_id", caller.RequestID)
	s.notifyServer(ctx, caller, eventUnmanageEnd, srv, nil)
	return nil
}

// releaseFailed records a release that could not be finished for the
// reconciler, and returns the caller's error.
func (s *Service) releaseFailed(ctx context.Context, run *workflow.Run[*job], err error) error {
	j := run.Env()
	if workflow.IsFenced(err) {
		j.log.Warn("another replica took this release over; leaving it to that replica", "error", err)
		return takenOver(j.in, err)
	}
	j.in.Steps = run.Steps()
	switch serr := s.store.SetIntentState(context.WithoutCancel(ctx), j.in, store.IntentRetry, err.Error()); {
	case workflow.IsFenced(serr):
		return takenOver(j.in, serr)
	case serr != nil:
		j.log.Error("recording a failed release", "error", serr)
	}
	later := fmt.Sprintf(" (the release of server %s is recorded and will be finished by the reconciler)", j.in.ServerUUID)
	if errors.Is(err, neutron.ErrUnavailable) {
		// The node is free; its ports' bindings wait for Neutron: 503,
		// as an adoption says, so that a client retries (and then finds
		// the server gone, or the release still in progress).
		return &refusal{kind: ErrUnavailable, msg: err.Error() + later}
	}
	return fmt.Errorf("%w%s", storeError(err), later)
}

// busy explains why a server cannot be released now.
func (s *Service) busy(ctx context.Context, rec store.Server) error {
	what := "is being released"
	if in, err := s.store.GetIntent(ctx, rec.UUID); err == nil {
		switch {
		case in.Action == store.ActionManage && in.State == store.IntentRunning && in.LeaseExpiresAt.After(s.now()) && in.Owner != s.owner:
			what = "is still being adopted (by replica " + in.Owner + ")"
		case in.Action == store.ActionManage && in.State == store.IntentRunning && in.LeaseExpiresAt.After(s.now()):
			what = "is still being adopted"
		case in.Action == store.ActionManage:
			what = "is being repaired after an interrupted adoption (" + orUnknown(in.LastError) + ")"
		}
	}
	return &refusal{kind: ErrBusy, msg: fmt.Sprintf("Server %s %s; try again when its status is active, stopped or error.", rec.UUID, what)}
}

func orUnknown(s string) string {
	if s == "" {
		return "waiting for its backend"
	}
	return s
}

// release carries out a release through the step table: the driver
// releases the node, then each port recorded by the adoption gets its
// previous binding back (unless the node belongs to another instance
// now), then the record goes, tombstoned. Every step is idempotent, so the
// reconciler runs it all again after a failure or a crash.
func (s *Service) release(ctx context.Context, run *workflow.Run[*job]) error {
	j := run.Env()
	if j.rec.UUID == "" { // a repair after the record went: only the intent is left
		_, err := s.store.EndIntent(ctx, j.in, store.Outcome{})
		return err
	}
	if _, err := workflow.Do(ctx, run, s.steps.release, releaseData{}); err != nil {
		return err
	}
	if !j.foreign {
		for _, b := range j.rec.Bindings {
			if _, err := workflow.Do(ctx, run, s.steps.restore, b); err != nil {
				return err
			}
		}
	}
	j.in.Steps = run.Completed()
	_, err := s.store.EndIntent(ctx, j.in, store.Outcome{Forget: true, Tombstone: true})
	return err
}
