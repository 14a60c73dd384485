package manage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// undoTimeout bounds the clean-up after a failed adoption. It runs even
// when the client has gone away: a half-adopted node is worse than a slow
// error.
const undoTimeout = 60 * time.Second

// The steps of an adoption after the claim, as the intent log names them.
const (
	stepBind   = "bind"   // one Neutron port bound; data: PortBinding
	stepManage = "manage" // the driver associates the node; data: manageData
)

// manageData is what completing an adoption needs beyond the claimed row,
// recorded with the manage step.
type manageData struct {
	ImageUUID string `json:"image_uuid"`
	NodeName  string `json:"node_name"`
}

// Request is what the operator asked for.
type Request struct {
	Name        string
	Description string
	Metadata    map[string]string
	NodeUUID    string
	// ProjectID and UserID own the server: the caller's by default.
	ProjectID string
	UserID    string
	Caller    Caller
}

// Adopt takes req.NodeUUID under management as a new server: claim, plan,
// execute, each step recorded before it acts; on failure every done step
// is undone in reverse. It returns the server as recorded.
func (s *Service) Adopt(ctx context.Context, req Request) (_ Server, err error) {
	defer func() { s.metrics.Adoption(adoptionOutcome(err)) }()
	rec := newRecord(req, s.now())
	in := store.Intent{
		ServerUUID: rec.UUID, NodeUUID: rec.NodeUUID, RequestID: req.Caller.RequestID,
		UserID: req.Caller.UserID, ProjectID: req.Caller.ProjectID, Owner: s.owner, LeaseExpiresAt: s.leaseUntil(),
	}
	log := s.log.With("node_uuid", req.NodeUUID, "server_uuid", rec.UUID, "request_id", req.Caller.RequestID)

	// 1. Claim: the store's unique constraint on node_uuid decides races.
	if err := s.store.ClaimNode(ctx, rec, in); err != nil {
		if errors.Is(err, store.ErrNodeTaken) {
			return Server{}, alreadyManaged(req.NodeUUID)
		}
		return Server{}, fmt.Errorf("claiming node %s: %w", req.NodeUUID, err)
	}
	s.notifyServer(ctx, req.Caller, eventManageStart, serverFromRecord(rec), nil)

	a := &adoption{s: s, in: in, rec: rec, log: log}
	p, err := s.plan(ctx, req)
	if err == nil {
		var done Server
		if done, err = a.execute(ctx, p); err == nil {
			log.Info("node adopted", "status", done.Status, "power_state", done.PowerState, "ports_bound", len(p.Bindings))
			s.notifyServer(ctx, req.Caller, eventManageEnd, done, nil)
			return done, nil
		}
	}
	a.fail(ctx, err)
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

// adoption is one adoption in progress: its intent and claimed row.
type adoption struct {
	s   *Service
	in  store.Intent
	rec store.Server
	log hclog.Logger
}

// begin records a step in the intent log before it acts.
func (a *adoption) begin(ctx context.Context, name string, data any) error {
	step := store.Step{Name: name}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("step %s: %w", name, err)
		}
		step.Data = b
	}
	steps := append(append([]store.Step(nil), a.in.Steps...), step)
	if err := a.s.store.SaveSteps(ctx, a.in.ServerUUID, a.in.Owner, steps); err != nil {
		return fmt.Errorf("recording step %s of server %s: %w", name, a.in.ServerUUID, err)
	}
	a.in.Steps = steps
	return nil
}

// acted runs the test hook after a step has acted.
func (a *adoption) acted(ctx context.Context, name string) error {
	if a.s.stepHook == nil {
		return nil
	}
	return a.s.stepHook(ctx, name)
}

// execute carries the plan out: bind the ports, associate the node,
// record the server.
func (a *adoption) execute(ctx context.Context, p Plan) (Server, error) {
	bound := make([]neutron.Port, 0, len(p.Bindings))
	for _, b := range p.Bindings {
		if err := a.begin(ctx, stepBind, b); err != nil {
			return Server{}, err
		}
		port, err := a.s.networks.Bind(ctx, b.PortID, p.Node.UUID, vnicBaremetal)
		if err != nil {
			return Server{}, upstreamError(err)
		}
		bound = append(bound, port)
		if err := a.acted(ctx, stepBind); err != nil {
			return Server{}, err
		}
	}

	nodeName := p.Node.Name
	if err := a.begin(ctx, stepManage, manageData{ImageUUID: p.ImageUUID, NodeName: nodeName}); err != nil {
		return Server{}, err
	}
	managed, err := a.s.driver.Manage(ctx, driver.ManageRequest{NodeUUID: p.Node.UUID, ServerUUID: a.rec.UUID})
	if err != nil {
		return Server{}, err
	}
	if !managed.Manageable {
		return Server{}, driver.NotManageable(p.Node.UUID, reasonOr(managed.Reason))
	}
	if err := a.acted(ctx, stepManage); err != nil {
		return Server{}, err
	}
	if managed.Name != "" {
		nodeName = managed.Name
	}
	// The node is the server's now: recording it is cheaper and truer than
	// undoing it, so a client that leaves at this point does not stop it.
	return a.record(context.WithoutCancel(ctx), managed.PowerState, p.ImageUUID, nodeName, p.Bindings, bound)
}

// record writes the adopted server and ends the intent, atomically.
func (a *adoption) record(ctx context.Context, powerState, imageUUID, nodeName string, plan []PortBinding, bound []neutron.Port) (Server, error) {
	rec := a.rec
	launched := a.s.now().UTC()
	rec.Status = statusFor(powerState)
	rec.PowerState = powerState
	rec.NodeName = nodeName
	rec.ImageUUID = imageUUID
	rec.LaunchedAt = &launched
	rec.Addresses = map[string][]store.Address{}
	for net, addrs := range addressesOf(bound) {
		rec.Addresses[net] = make([]store.Address, len(addrs))
		for i, ad := range addrs {
			rec.Addresses[net][i] = store.Address(ad)
		}
	}
	for _, b := range plan {
		rec.Bindings = append(rec.Bindings, store.Binding{
			PortID: b.PortID, NetworkID: b.NetworkID, PrevHostID: b.PrevHostID, PrevVNICType: b.PrevVNICType,
		})
	}
	stored, err := a.s.store.EndIntent(ctx, a.in, store.Outcome{Record: &rec})
	if err != nil {
		return Server{}, fmt.Errorf("recording server %s: %w", rec.UUID, err)
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

// fail undoes the done steps of a failed adoption. Its context outlives
// the request's cancellation but not forever. An undo that fails leaves
// the intent for the reconciler, never forgotten.
func (a *adoption) fail(ctx context.Context, cause error) {
	if errors.Is(cause, store.ErrLeaseLost) {
		// Another replica took the intent over (ours looked dead): it
		// repairs it. Every step is recorded before it acts, so it knows
		// all this replica did; undoing here would race it.
		a.log.Warn("another replica took this adoption over; leaving it to that replica", "error", cause)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	a.log.Info("adoption failed; undoing its steps", "error", cause, "steps", len(a.in.Steps))
	if err := a.s.rollback(ctx, a.in, cause); err != nil {
		a.log.Error("undoing a failed adoption failed; the reconciler will retry", "error", err)
	}
}

// rollback undoes in's steps in reverse and forgets the server, leaving a
// tombstone when the driver may have associated the node, and an error
// action saying why (cause). Every undo is idempotent, so a rollback cut
// short is simply run again. When an undo fails the intent is marked for
// retry and the error returned.
func (s *Service) rollback(ctx context.Context, in store.Intent, cause error) error {
	if err := s.undoSteps(ctx, in); err != nil {
		if serr := s.store.SetIntentState(ctx, in.ServerUUID, in.Owner, store.IntentRetry, err.Error()); serr != nil {
			return errors.Join(err, serr)
		}
		return err
	}
	_, err := s.store.EndIntent(ctx, in, store.Outcome{Forget: true, Tombstone: hasStep(in, stepManage), Fault: faultText(cause)})
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

// undoSteps undoes in's steps in reverse; it stops at the first failure.
func (s *Service) undoSteps(ctx context.Context, in store.Intent) error {
	for i := len(in.Steps) - 1; i >= 0; i-- {
		step := in.Steps[i]
		switch step.Name {
		case stepManage:
			// Unmanage releases the node only if it names this server, so
			// it is right whether or not the association happened. A
			// driver that does not implement it cannot have associated
			// the node (Manage and Unmanage are one capability): nothing
			// to release, rather than an undo retried for ever.
			err := s.driver.Unmanage(ctx, driver.ManageRequest{NodeUUID: in.NodeUUID, ServerUUID: in.ServerUUID})
			if err != nil && !errors.Is(err, driver.ErrNodeNotFound) && !errors.Is(err, driver.ErrNotImplemented) {
				return fmt.Errorf("releasing node %s: %w", in.NodeUUID, err)
			}
		case stepBind:
			var b PortBinding
			if err := json.Unmarshal(step.Data, &b); err != nil {
				return fmt.Errorf("step %d of server %s: %w", i, in.ServerUUID, err)
			}
			if err := s.restoreBinding(ctx, b.PortID, b.PrevHostID, b.PrevVNICType); err != nil {
				return err
			}
		}
	}
	return nil
}

// restoreBinding puts a port's binding back; a port deleted meanwhile
// needs nothing.
func (s *Service) restoreBinding(ctx context.Context, portID, hostID, vnicType string) error {
	if s.networks == nil {
		return fmt.Errorf("port %s was bound but [neutron] is no longer configured: configure it again so the binding can be undone", portID)
	}
	if vnicType == "" {
		vnicType = "normal" // Neutron's default
	}
	_, err := s.networks.Bind(ctx, portID, hostID, vnicType)
	if err != nil && !errors.Is(err, neutron.ErrPortNotFound) {
		return fmt.Errorf("restoring the binding of Neutron port %s: %w", portID, err)
	}
	return nil
}

func hasStep(in store.Intent, name string) bool {
	for _, st := range in.Steps {
		if st.Name == name {
			return true
		}
	}
	return false
}
