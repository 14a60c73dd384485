package manage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/host/internal/workflow"
	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// undoTimeout bounds the clean-up after a failed adoption. It runs even
// when the client has gone away: a half-adopted node is worse than a slow
// error.
const undoTimeout = 60 * time.Second

// Request is what the operator asked for.
type Request struct {
	Name        string
	Description string
	Metadata    map[string]string
	NodeUUID    string
	// Backend is the backend holding the node; "" finds it.
	Backend string
	// ProjectID and UserID own the server: the caller's by default.
	ProjectID string
	UserID    string
	Caller    Caller
	// migration is the migration this adoption is the last step of: its
	// claim on the node lets this adoption (and only it) through.
	migration string
}

// Adopt takes req.NodeUUID under management as a new server: claim, plan,
// execute, each step recorded before it acts; on failure every done step
// is undone in reverse. It returns the server as recorded.
func (s *Service) Adopt(ctx context.Context, req Request) (_ Server, err error) {
	backend := req.Backend
	defer func() { s.metrics.Adoption(backend, adoptionOutcome(err)) }()
	// The backend is known before the claim (a search of every backend
	// when the request does not say), so the intent records it.
	b, err := s.backendFor(ctx, req)
	if err != nil {
		return Server{}, err
	}
	backend = b.Name
	rec := newRecord(req, s.now())
	rec.Backend = b.Name
	in := store.Intent{
		ServerUUID: rec.UUID, NodeUUID: rec.NodeUUID, Backend: b.Name, MigrationUUID: req.migration, RequestID: req.Caller.RequestID,
		UserID: req.Caller.UserID, ProjectID: req.Caller.ProjectID, Owner: s.owner, OwnerEpoch: s.epoch,
		LeaseExpiresAt: s.leaseUntil(),
	}

	// 1. Claim: the store's unique constraint on node_uuid decides races.
	if err := s.store.ClaimNode(ctx, rec, in); err != nil {
		if errors.Is(err, store.ErrNodeTaken) {
			return Server{}, alreadyManaged(req.NodeUUID)
		}
		if errors.Is(err, store.ErrNodeClaimed) {
			return Server{}, beingMigrated(req.NodeUUID, err)
		}
		return Server{}, storeError(fmt.Errorf("claiming node %s: %w", req.NodeUUID, err))
	}
	defer s.working.track(rec.UUID)()
	s.notifyServer(ctx, req.Caller, eventManageStart, serverFromRecord(rec), nil)

	j := s.newJob(in, rec)
	run := s.run(j)
	p, err := s.plan(ctx, b, req)
	if err == nil {
		var done Server
		if done, err = s.execute(ctx, run, p); err == nil {
			j.log.Info("node adopted", "status", done.Status, "power_state", done.PowerState, "ports_bound", len(p.Bindings))
			s.notifyServer(ctx, req.Caller, eventManageEnd, done, nil)
			return done, nil
		}
	}
	err = s.fail(ctx, run, err)
	s.notifyServer(ctx, req.Caller, eventManageError, serverFromRecord(rec), err)
	return Server{}, err
}

// newRecord is the claimed server: building, until the adoption ends.
func newRecord(req Request, now time.Time) store.Server {
	rec := store.Server{
		UUID:           uuid.NewString(),
		Name:           req.Name,
		Description:    req.Description,
		NodeUUID:       req.NodeUUID,
		Status:         store.StatusBuilding,
		ProjectID:      req.ProjectID,
		UserID:         req.UserID,
		Metadata:       req.Metadata,
		SystemMetadata: map[string]string{"managed_server": "True"},
		Addresses:      map[string][]store.Address{},
		CreatedAt:      now.UTC(),
	}
	if rec.Metadata == nil {
		rec.Metadata = map[string]string{}
	}
	return rec
}

// execute carries the plan out through the step table: bind the ports,
// associate the node, record the server.
func (s *Service) execute(ctx context.Context, run *workflow.Run[*job], p Plan) (Server, error) {
	for _, b := range p.Bindings {
		if _, err := workflow.Do(ctx, run, s.steps.bind, b); err != nil {
			return Server{}, err
		}
	}
	if _, err := workflow.Do(ctx, run, s.steps.manage, manageData{ImageUUID: p.ImageUUID, NodeName: p.Node.Name}); err != nil {
		return Server{}, err
	}
	// The node is the server's now: recording it is cheaper and truer than
	// undoing it, so a client that leaves at this point does not stop it.
	return s.record(context.WithoutCancel(ctx), run)
}

// record writes the adopted server and ends the intent, atomically: its
// power state and node name as the driver last said, its image from the
// manage step, its addresses from the ports the bind steps bound.
func (s *Service) record(ctx context.Context, run *workflow.Run[*job]) (Server, error) {
	j := run.Env()
	var data manageData
	if d, err := workflow.Recorded(run, s.steps.manage); err == nil && len(d) > 0 {
		data = d[len(d)-1]
	}
	rec := j.rec
	launched := s.now().UTC()
	rec.Status = statusFor(j.powerState)
	rec.PowerState = j.powerState
	rec.NodeName = data.NodeName
	if j.nodeName != "" {
		rec.NodeName = j.nodeName
	}
	rec.ImageUUID = data.ImageUUID
	rec.LaunchedAt = &launched
	rec.Addresses = map[string][]store.Address{}
	for net, addrs := range addressesOf(j.bound) {
		rec.Addresses[net] = make([]store.Address, len(addrs))
		for i, ad := range addrs {
			rec.Addresses[net][i] = store.Address(ad)
		}
	}
	rec.Bindings = nil
	for _, b := range j.boundFor {
		rec.Bindings = append(rec.Bindings, store.Binding{
			PortID: b.PortID, NetworkID: b.NetworkID, PrevHostID: b.PrevHostID, PrevVNICType: b.PrevVNICType,
		})
	}
	j.in.Steps = run.Completed()
	stored, err := s.store.EndIntent(ctx, j.in, store.Outcome{Record: &rec})
	if err != nil {
		return Server{}, storeError(fmt.Errorf("recording server %s: %w", rec.UUID, err))
	}
	return serverFromRecord(stored), nil
}

// statusFor is the server status of an adopted node.
func statusFor(powerState string) string {
	if powerState == "power off" {
		return store.StatusStopped
	}
	return store.StatusActive
}

// fail undoes the done steps of a failed adoption and returns the error
// for the caller. Its context outlives the request's cancellation but not
// forever. An undo that fails leaves the intent for the reconciler, never
// forgotten. A run that lost its intent (another replica took it over)
// touches nothing: the new holder repairs it from the journal.
func (s *Service) fail(ctx context.Context, run *workflow.Run[*job], cause error) error {
	j := run.Env()
	if workflow.IsFenced(cause) {
		j.log.Warn("another replica took this adoption over; leaving it to that replica", "error", cause)
		return takenOver(j.in, cause)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	j.log.Info("adoption failed; undoing its steps", "error", cause, "steps", len(run.Steps()))
	switch err := s.rollback(ctx, run, cause); {
	case workflow.IsFenced(err):
		j.log.Warn("another replica took this adoption over while it was undone; leaving it to that replica", "error", err)
		return takenOver(j.in, err)
	case errors.Is(err, store.ErrUnavailable):
		j.log.Error("undoing a failed adoption: the database is unavailable; the intent's lease will expire and a replica will repair it", "error", err)
		return storeError(err)
	case err != nil:
		j.log.Error("undoing a failed adoption failed; the reconciler will retry", "error", err)
	}
	return storeError(cause)
}

// rollback undoes the run's steps in reverse and forgets the server,
// leaving a tombstone when the driver may have associated the node, and
// an error action saying why (cause). Every undo is idempotent, so a
// rollback cut short is simply run again. When an undo fails the intent is
// marked for retry and the error returned.
func (s *Service) rollback(ctx context.Context, run *workflow.Run[*job], cause error) error {
	j := run.Env()
	if err := run.Rollback(ctx); err != nil {
		if workflow.IsFenced(err) {
			return err
		}
		j.in.Steps = run.Steps()
		if serr := s.store.SetIntentState(ctx, j.in, store.IntentRetry, err.Error()); serr != nil {
			return errors.Join(err, serr)
		}
		return err
	}
	_, err := s.store.EndIntent(ctx, j.in, store.Outcome{Forget: true, Tombstone: workflow.Has(run, s.steps.manage), Fault: faultText(cause)})
	return err
}

// faultText is an error as an action records it: never empty (an empty
// fault would read as success), with any URL credentials removed.
func faultText(err error) string {
	if err == nil || err.Error() == "" {
		return "the adoption failed"
	}
	return osclient.RedactText(err.Error())
}

// restoreBinding puts a port's binding back; a port deleted meanwhile
// needs nothing.
func (s *Service) restoreBinding(ctx context.Context, portID, hostID, vnicType string) error {
	if s.networks == nil {
		return fmt.Errorf("port %s was bound but [neutron] is no longer configured: configure it again so the binding can be undone", portID)
	}
	if vnicType == "" {
		vnicType = vnicNormal
	}
	_, err := s.networks.Bind(ctx, portID, hostID, vnicType)
	if err != nil && !errors.Is(err, neutron.ErrPortNotFound) {
		return fmt.Errorf("restoring the binding of Neutron port %s: %w", portID, err)
	}
	return nil
}
