package manage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
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
	ProjectID   string
	UserID      string
}

// Workflow adopts and releases nodes.
type Workflow struct {
	store  store.Store
	driver driver.Full
	log    hclog.Logger
	now    func() time.Time
}

// New returns a workflow over st and drv.
func New(st store.Store, drv driver.Full, log hclog.Logger) *Workflow {
	return &Workflow{store: st, driver: drv, log: log.Named("manage"), now: time.Now}
}

// ErrStillAdopting: the server's adoption has not finished (HTTP 409).
var ErrStillAdopting = errors.New("server is still being adopted")

// refusal is an error worded for the operator whose kind callers test with
// errors.Is, without the cause's internal text.
type refusal struct {
	kind error
	msg  string
}

func (r *refusal) Error() string { return r.msg }
func (r *refusal) Unwrap() error { return r.kind }

// Manage adopts req.NodeUUID as a new server and returns it.
func (w *Workflow) Manage(ctx context.Context, req Request) (store.Server, error) {
	now := w.now().UTC()
	srv := store.Server{
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
		CreatedAt:      now,
	}
	if srv.Metadata == nil {
		srv.Metadata = map[string]string{}
	}
	log := w.log.With("node_uuid", req.NodeUUID, "server_uuid", srv.UUID)

	// 1. Claim: the store's unique constraint on node_uuid decides races.
	if err := w.store.CreateServer(ctx, srv); err != nil {
		if errors.Is(err, store.ErrNodeTaken) {
			// The store's error carries the database's words; the
			// operator gets ours.
			return store.Server{}, &refusal{kind: store.ErrNodeTaken,
				msg: fmt.Sprintf("Node %s is already managed by another server.", req.NodeUUID)}
		}
		return store.Server{}, fmt.Errorf("claiming node %s: %w", req.NodeUUID, err)
	}
	var undo []func(context.Context) error
	undo = append(undo, func(ctx context.Context) error { return w.store.DeleteServer(ctx, srv.UUID) })
	fail := func(err error) (store.Server, error) {
		w.rollback(ctx, log, undo)
		return store.Server{}, err
	}

	// 2. The driver re-validates the node.
	node, err := w.driver.GetManageableNode(ctx, req.NodeUUID)
	if err != nil {
		return fail(err)
	}
	if !node.Manageable {
		return fail(driver.NotManageable(req.NodeUUID, node.Reason))
	}

	// 3. The driver associates the node with the server. Its undo is in
	// place before the call: a Manage that fails late (a timeout after
	// Ironic took the patch) may have associated the node all the same,
	// and Unmanage releases it only if it names this server.
	undo = append(undo, func(ctx context.Context) error {
		return w.driver.Unmanage(ctx, driver.ManageRequest{NodeUUID: req.NodeUUID, ServerUUID: srv.UUID})
	})
	managed, err := w.driver.Manage(ctx, driver.ManageRequest{NodeUUID: req.NodeUUID, ServerUUID: srv.UUID})
	if err != nil {
		return fail(err)
	}
	if managed.UUID == "" {
		managed = node
	}

	// 4. Record the server as it now is.
	launched := w.now().UTC()
	srv.Status = statusFor(managed.PowerState)
	srv.PowerState = managed.PowerState
	srv.NodeName = managed.Name
	srv.ImageUUID = managed.ImageSource
	srv.LaunchedAt = &launched
	stored, err := w.store.UpdateServer(ctx, srv)
	if err != nil {
		return fail(fmt.Errorf("recording server %s: %w", srv.UUID, err))
	}
	log.Info("node adopted", "status", stored.Status, "power_state", stored.PowerState)
	return stored, nil
}

// statusFor is the server status of an adopted node.
func statusFor(powerState string) string {
	if powerState == "power off" {
		return store.StatusStopped
	}
	return store.StatusActive
}

// rollback undoes the done steps in reverse. Its context outlives the
// request's cancellation but not forever.
func (w *Workflow) rollback(ctx context.Context, log hclog.Logger, undo []func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	for i := len(undo) - 1; i >= 0; i-- {
		if err := undo[i](ctx); err != nil {
			log.Error("undoing a step of a failed adoption failed; the node may need attention", "step", i, "error", err)
		}
	}
}

// Unmanage releases srv's node and forgets the server; the machine is not
// touched. A server still being adopted cannot be released yet.
func (w *Workflow) Unmanage(ctx context.Context, srv store.Server) error {
	if srv.Status == store.StatusBuilding {
		return fmt.Errorf("%w: try again when server %s is active", ErrStillAdopting, srv.UUID)
	}
	if err := w.driver.Unmanage(ctx, driver.ManageRequest{NodeUUID: srv.NodeUUID, ServerUUID: srv.UUID}); err != nil {
		return err
	}
	if err := w.store.DeleteServer(ctx, srv.UUID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("forgetting server %s: %w", srv.UUID, err)
	}
	w.log.Info("node released", "node_uuid", srv.NodeUUID, "server_uuid", srv.UUID)
	return nil
}
