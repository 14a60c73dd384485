package manage

import (
	"context"
	"errors"
	"fmt"

	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// Unmanage releases a server: the driver forgets the association, the
// Neutron ports get their previous binding back, the record goes. The
// machine is not touched. A server whose adoption is in progress or being
// repaired is ErrBusy. Once begun, a release is only ever finished, never
// undone: when a step fails the intent stays and the reconciler finishes
// it.
func (s *Service) Unmanage(ctx context.Context, caller Caller, serverUUID string) error {
	rec, err := s.store.GetServer(ctx, serverUUID)
	if errors.Is(err, store.ErrNotFound) {
		return &refusal{kind: ErrServerNotFound, msg: fmt.Sprintf("Server %s could not be found.", serverUUID)}
	}
	if err != nil {
		return err
	}
	in := store.Intent{
		ServerUUID: rec.UUID, NodeUUID: rec.NodeUUID, Action: store.ActionUnmanage, RequestID: caller.RequestID,
		UserID: caller.UserID, ProjectID: caller.ProjectID, Owner: s.owner, LeaseExpiresAt: s.leaseUntil(),
	}
	switch err := s.store.BeginRelease(ctx, in); {
	case errors.Is(err, store.ErrIntentExists):
		return s.busy(ctx, rec)
	case errors.Is(err, store.ErrNotFound):
		return &refusal{kind: ErrServerNotFound, msg: fmt.Sprintf("Server %s could not be found.", serverUUID)}
	case err != nil:
		return err
	}
	srv := serverFromRecord(rec)
	s.notifyServer(ctx, caller, eventUnmanageStart, srv, nil)
	if err := s.release(ctx, in, rec); err != nil {
		s.notifyServer(ctx, caller, eventUnmanageError, srv, err)
		if serr := s.store.SetIntentState(context.WithoutCancel(ctx), in.ServerUUID, in.Owner, store.IntentRetry, err.Error()); serr != nil {
			s.log.Error("recording a failed release", "server_uuid", in.ServerUUID, "request_id", caller.RequestID, "error", serr)
		}
		return fmt.Errorf("%w (the release of server %s is recorded and will be finished by the reconciler)", err, serverUUID)
	}
	s.log.Info("node released", "node_uuid", rec.NodeUUID, "server_uuid", rec.UUID, "request_id", caller.RequestID)
	s.notifyServer(ctx, caller, eventUnmanageEnd, srv, nil)
	return nil
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

// release carries out a release; every step is idempotent, so the
// reconciler runs it again after a failure or a crash.
func (s *Service) release(ctx context.Context, in store.Intent, rec store.Server) error {
	err := s.driver.Unmanage(ctx, driver.ManageRequest{NodeUUID: rec.NodeUUID, ServerUUID: rec.UUID})
	if err != nil && !errors.Is(err, driver.ErrNodeNotFound) {
		return err
	}
	for _, b := range rec.Bindings {
		if err := s.restoreBinding(ctx, b.PortID, b.PrevHostID, b.PrevVNICType); err != nil {
			return err
		}
	}
	_, err = s.store.EndIntent(ctx, in, store.Outcome{Forget: true, Tombstone: true})
	return err
}
