package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The intent log. An adoption (or a release) is claimed together with its
// intent in one transaction; each step is appended to the intent before it
// acts, with what its undo needs; the intent is deleted in the same
// transaction that records the outcome. An intent that outlives its
// process is repaired at the next start (its owner's), or by any replica
// once its lease has expired.

// Intent actions and states.
const (
	ActionManage   = "manage"
	ActionUnmanage = "unmanage"

	// IntentRunning: its owner is carrying it out (or died doing so).
	IntentRunning = "running"
	// IntentRetry: it could not be finished or undone (its backend was
	// down, the disk full); the reconciler takes it up again.
	IntentRetry = "retry"
)

// More errors of the intent log.
var (
	// ErrLeaseLost: the intent is gone or another replica owns it now.
	ErrLeaseLost = errors.New("the intent is no longer this replica's")
	// ErrIntentExists: the server already has an intent in progress.
	ErrIntentExists = errors.New("the server has an adoption or release in progress")
)

// Intent is one adoption or release in progress.
type Intent struct {
	ServerUUID string
	NodeUUID   string
	// Backend is the backend of the node (the server's).
	Backend string
	// MigrationUUID is the migration the intent runs for: a migration's
	// own intent (keyed by its uuid), or the adoption a migration runs
	// (whose claim on the node is the migration's).
	MigrationUUID string
	// CancelRequested: a migration asked to stop (DELETE): its run undoes
	// what it did, unless its commit is recorded.
	CancelRequested bool
	Action          string
	State           string
	// Steps are the steps started, in order; the last may not have acted.
	Steps     []Step
	RequestID string
	UserID    string
	ProjectID string
	// Owner is the replica running it ([DEFAULT] host); it is its until
	// LeaseExpiresAt. OwnerEpoch is the start of that replica that holds
	// it, and Fence grows at every takeover: every write of the owner
	// matches all three (the fence), so a process that lost the intent —
	// paused past its lease, or an earlier start of the same host — changes
	// nothing more.
	Owner          string
	OwnerEpoch     int64
	Fence          int64
	LeaseExpiresAt time.Time
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Step is one step of an intent: its kind's name, its data (what its undo
// and a repair need) and how far it went. A log written before steps had a
// status holds only name and data: such a step was begun.
type Step struct {
	Name string          `json:"name"`
	Data json.RawMessage `json:"data,omitempty"`
	// Status is StepBegun, StepDone, StepFailed, StepUndoing or StepUndone;
	// "" in a log written by an older mogan-api (begun).
	Status     string     `json:"status,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Error is why the step failed (or its undo did), for a human.
	Error string `json:"error,omitempty"`
}

// Step statuses. A step is recorded begun before it acts; done is written
// with the next step (or the intent's end), so a step costs one write.
const (
	StepBegun   = "begun"
	StepDone    = "done"
	StepFailed  = "failed"
	StepUndoing = "undoing"
	StepUndone  = "undone"
)

// Tombstone is a server uuid an adoption rolled back, with its node (and
// the node's backend): a late request may still associate the node with
// it.
type Tombstone struct {
	ServerUUID string
	NodeUUID   string
	Backend    string
	CreatedAt  time.Time
}

// Outcome ends an intent. Exactly one of Record or Forget is set: Record
// replaces the server (the adoption finished), Forget deletes it (rolled
// back or released). Tombstone keeps the server uuid with its node. Fault
// is why the intent failed (a rolled-back adoption): its action's result
// is then error with that message, else success.
type Outcome struct {
	Record    *Server
	Forget    bool
	Tombstone bool
	Fault     string
}

const intentColumns = `server_uuid, node_uuid, backend, migration_uuid, cancel_requested, action, state, steps,
	request_id, user_id, project_id, owner, owner_epoch, fence, lease_expires_at, last_error, created_at, updated_at`

// fenced is the condition every write of an intent's owner carries: the
// intent is still the one it holds.
const fenced = `server_uuid = ? AND owner = ? AND owner_epoch = ? AND fence = ?`

func fenceArgs(in Intent) []any { return []any{in.ServerUUID, in.Owner, in.OwnerEpoch, in.Fence} }

// ClaimNode inserts the server (status building) and its manage intent in
// one transaction: the claim on the node (ErrNodeTaken, ErrServerExists).
func (s *sqlStore) ClaimNode(ctx context.Context, srv Server, in Intent) error {
	if srv.UUID == "" || srv.NodeUUID == "" {
		return errors.New("claim node: uuid and node_uuid are required")
	}
	if srv.CreatedAt.IsZero() {
		srv.CreatedAt = time.Now()
	}
	srv = normalizeTimes(srv)
	args, err := s.columnArgs(srv)
	if err != nil {
		return fmt.Errorf("claim node %s: %w", srv.NodeUUID, err)
	}
	in.ServerUUID, in.NodeUUID, in.Action = srv.UUID, srv.NodeUUID, ActionManage
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// A migration's claim on the node keeps every other adoption out;
		// the adoption it runs itself passes.
		if err := s.claimNode(ctx, tx, srv.NodeUUID, srv.UUID, in.MigrationUUID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.insert, args...); err != nil {
			return fmt.Errorf("claim node %s: %w", srv.NodeUUID, s.engine.classify(err))
		}
		return s.insertIntent(ctx, tx, in)
	})
}

// BeginRelease records the unmanage intent of an existing server:
// ErrNotFound when the server is gone, ErrIntentExists when it already has
// one (it is being adopted, repaired or released).
func (s *sqlStore) BeginRelease(ctx context.Context, in Intent) error {
	in.Action = ActionUnmanage
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, s.engine.rebind(`SELECT 1 FROM servers WHERE uuid = ?`), in.ServerUUID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("release server %s: %w", in.ServerUUID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("release server %s: %w", in.ServerUUID, err)
		}
		return s.insertIntent(ctx, tx, in)
	})
}

func (s *sqlStore) insertIntent(ctx context.Context, tx *sql.Tx, in Intent) error {
	now := normalizeTime(time.Now())
	steps, err := json.Marshal(stepsOrEmpty(in.Steps))
	if err != nil {
		return fmt.Errorf("intent of server %s: %w", in.ServerUUID, err)
	}
	if in.State == "" {
		in.State = IntentRunning
	}
	_, err = tx.ExecContext(ctx, s.engine.rebind(`INSERT INTO intents (`+intentColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		in.ServerUUID, in.NodeUUID, in.Backend, in.MigrationUUID, in.CancelRequested, in.Action, in.State, string(steps), in.RequestID, in.UserID, in.ProjectID,
		in.Owner, in.OwnerEpoch, in.Fence, s.engine.timeArg(normalizeTime(in.LeaseExpiresAt)), nullString(in.LastError),
		s.engine.timeArg(now), s.engine.timeArg(now))
	if err != nil {
		var pk bool
		err, pk = s.classifyIntent(err)
		if pk {
			return fmt.Errorf("intent of server %s: %w", in.ServerUUID, ErrIntentExists)
		}
		return fmt.Errorf("intent of server %s: %w", in.ServerUUID, err)
	}
	return nil
}

// classifyIntent reports whether err is the intents primary key firing.
func (s *sqlStore) classifyIntent(err error) (error, bool) {
	msg := err.Error()
	return err, strings.Contains(msg, "intents_pkey") || strings.Contains(msg, "intents.server_uuid")
}

func stepsOrEmpty(steps []Step) []Step {
	if steps == nil {
		return []Step{}
	}
	return steps
}

// SaveSteps replaces the steps of in (a new step is appended by the
// caller before it acts), if in's holder still holds it: ErrLeaseLost
// otherwise.
func (s *sqlStore) SaveSteps(ctx context.Context, in Intent, steps []Step) error {
	b, err := json.Marshal(stepsOrEmpty(steps))
	if err != nil {
		return fmt.Errorf("steps of server %s: %w", in.ServerUUID, err)
	}
	return s.updateIntent(ctx, in, `steps = ?`, string(b))
}

// SaveStepsUnlessCancelled is SaveSteps for a step going forward in a
// migration: ErrCancelled, recording nothing, when the migration was asked
// to stop (checked in the same statement).
func (s *sqlStore) SaveStepsUnlessCancelled(ctx context.Context, in Intent, steps []Step) error {
	b, err := json.Marshal(stepsOrEmpty(steps))
	if err != nil {
		return fmt.Errorf("steps of migration %s: %w", in.ServerUUID, err)
	}
	q := s.engine.rebind(`UPDATE intents SET steps = ?, updated_at = ? WHERE ` + fenced + ` AND cancel_requested = ?`)
	res, err := s.db.ExecContext(ctx, q, append([]any{string(b), s.engine.timeArg(normalizeTime(time.Now()))},
		append(fenceArgs(in), false)...)...)
	if err != nil {
		return fmt.Errorf("intent of migration %s: %w", in.ServerUUID, s.engine.unavailable(err))
	}
	if leaseHeld(res, in.ServerUUID) == nil {
		return nil
	}
	cancelled, err := s.CancelRequested(ctx, in)
	if err != nil {
		return err
	}
	if cancelled {
		return fmt.Errorf("migration %s: %w", in.ServerUUID, ErrCancelled)
	}
	return fmt.Errorf("intent of migration %s: %w", in.ServerUUID, ErrLeaseLost)
}

// SetIntentState records an intent's state and its last error (fenced).
func (s *sqlStore) SetIntentState(ctx context.Context, in Intent, state, lastError string) error {
	return s.updateIntent(ctx, in, `state = ?, last_error = ?`, state, nullString(lastError))
}

func (s *sqlStore) updateIntent(ctx context.Context, in Intent, set string, args ...any) error {
	q := s.engine.rebind(`UPDATE intents SET ` + set + `, updated_at = ? WHERE ` + fenced)
	args = append(args, s.engine.timeArg(normalizeTime(time.Now())))
	res, err := s.db.ExecContext(ctx, q, append(args, fenceArgs(in)...)...)
	if err != nil {
		return fmt.Errorf("intent of server %s: %w", in.ServerUUID, s.engine.unavailable(err))
	}
	return leaseHeld(res, in.ServerUUID)
}

func leaseHeld(res sql.Result, serverUUID string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("intent of server %s: %w", serverUUID, err)
	}
	if n == 0 {
		return fmt.Errorf("intent of server %s: %w", serverUUID, ErrLeaseLost)
	}
	return nil
}

// EndIntent deletes in (if its holder still holds it) and records its outcome and its action
// (the audit trail) in the same transaction, so a crash leaves either the
// intent or the outcome, never neither. It returns the recorded server
// (Outcome.Record).
func (s *sqlStore) EndIntent(ctx context.Context, in Intent, out Outcome) (Server, error) {
	var recorded Server
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.recordAction(ctx, tx, in, out.Fault); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.engine.rebind(`DELETE FROM intents WHERE `+fenced), fenceArgs(in)...)
		if err != nil {
			return fmt.Errorf("end intent of server %s: %w", in.ServerUUID, err)
		}
		if err := leaseHeld(res, in.ServerUUID); err != nil {
			return err
		}
		// The adoption's moment on the node is over: the server row holds
		// it now, or nothing does.
		if _, err := tx.ExecContext(ctx, s.engine.rebind(`DELETE FROM node_claims WHERE holder = ?`), in.ServerUUID); err != nil {
			return fmt.Errorf("end intent of server %s: %w", in.ServerUUID, err)
		}
		switch {
		case out.Record != nil:
			if recorded, err = s.updateServer(ctx, tx, *out.Record); err != nil {
				return err
			}
		case out.Forget:
			if _, err := tx.ExecContext(ctx, s.q.delete, in.ServerUUID); err != nil {
				return fmt.Errorf("forget server %s: %w", in.ServerUUID, err)
			}
		}
		if out.Tombstone {
			_, err := tx.ExecContext(ctx, s.engine.rebind(`INSERT INTO tombstones (server_uuid, node_uuid, backend, created_at)
				VALUES (?, ?, ?, ?) ON CONFLICT (server_uuid) DO NOTHING`),
				in.ServerUUID, in.NodeUUID, in.Backend, s.engine.timeArg(normalizeTime(time.Now())))
			if err != nil {
				return fmt.Errorf("tombstone of server %s: %w", in.ServerUUID, err)
			}
		}
		return nil
	})
	return recorded, err
}

// GetIntent returns the server's intent, or ErrNotFound.
func (s *sqlStore) GetIntent(ctx context.Context, serverUUID string) (Intent, error) {
	rows, err := s.db.QueryContext(ctx, s.engine.rebind(`SELECT `+intentColumns+` FROM intents WHERE server_uuid = ?`), serverUUID)
	if err != nil {
		return Intent{}, fmt.Errorf("intent of server %s: %w", serverUUID, err)
	}
	ins, err := scanIntents(rows)
	if err != nil {
		return Intent{}, fmt.Errorf("intent of server %s: %w", serverUUID, err)
	}
	if len(ins) == 0 {
		return Intent{}, fmt.Errorf("intent of server %s: %w", serverUUID, ErrNotFound)
	}
	return ins[0], nil
}

// RenewLeases extends to until the leases the replica (owner at epoch)
// holds on the intents named: those it is working on now. An intent it
// holds but no longer works on (its run gave up with the database down)
// is not renewed, so its lease runs out and a repair takes it.
func (s *sqlStore) RenewLeases(ctx context.Context, owner string, epoch int64, serverUUIDs []string, until time.Time) error {
	if len(serverUUIDs) == 0 {
		return nil
	}
	args := []any{s.engine.timeArg(normalizeTime(until)), owner, epoch}
	for _, u := range serverUUIDs {
		args = append(args, u)
	}
	_, err := s.db.ExecContext(ctx, s.engine.rebind(`UPDATE intents SET lease_expires_at = ?
		WHERE owner = ? AND owner_epoch = ? AND server_uuid IN (`+placeholders(len(serverUUIDs))+`)`), args...)
	if err != nil {
		return fmt.Errorf("renew leases of %s: %w", owner, s.engine.unavailable(err))
	}
	return nil
}

// TakeOver makes the replica (owner at epoch) the holder, until the given
// time, of the intents it may repair, and returns them: every intent whose
// lease expired; every intent of an earlier start of owner (that process is
// gone: the caller holds the host lock); and owner's own that wait for a
// retry. Each is taken with a compare-and-set on its holder that also
// grows its fence, so two replicas never take the same intent and the one
// that lost it is fenced out.
func (s *sqlStore) TakeOver(ctx context.Context, owner string, epoch int64, until time.Time) ([]Intent, error) {
	candidates, err := s.RepairCandidates(ctx, owner, epoch)
	if err != nil {
		return nil, err
	}
	cas := s.engine.rebind(`UPDATE intents SET owner = ?, owner_epoch = ?, fence = fence + 1, lease_expires_at = ?
		WHERE ` + fenced)
	lease := normalizeTime(until)
	var taken []Intent
	for _, in := range candidates {
		res, err := s.db.ExecContext(ctx, cas, append([]any{owner, epoch, s.engine.timeArg(lease)}, fenceArgs(in)...)...)
		if err != nil {
			return taken, fmt.Errorf("take over intent of server %s: %w", in.ServerUUID, s.engine.unavailable(err))
		}
		if leaseHeld(res, in.ServerUUID) != nil {
			continue // another replica took it first
		}
		in.Owner, in.OwnerEpoch, in.Fence, in.LeaseExpiresAt = owner, epoch, in.Fence+1, lease
		taken = append(taken, in)
	}
	return taken, nil
}

// RepairCandidates returns, oldest first, the intents TakeOver would try
// to take for the replica, without taking them (mogan-api recover
// --dry-run).
func (s *sqlStore) RepairCandidates(ctx context.Context, owner string, epoch int64) ([]Intent, error) {
	now := normalizeTime(time.Now())
	rows, err := s.db.QueryContext(ctx, s.engine.rebind(`SELECT `+intentColumns+` FROM intents
		WHERE lease_expires_at < ? OR (owner = ? AND (owner_epoch < ? OR state = ?))
		ORDER BY created_at, server_uuid`), s.engine.timeArg(now), owner, epoch, IntentRetry)
	if err != nil {
		return nil, fmt.Errorf("intents to repair: %w", s.engine.unavailable(err))
	}
	candidates, err := scanIntents(rows)
	if err != nil {
		return nil, fmt.Errorf("intents to repair: %w", err)
	}
	return candidates, nil
}

// NodesInProgress reports which of nodes have an intent: an adoption,
// release or migration is acting on them (the reconciler leaves them to
// it).
func (s *sqlStore) NodesInProgress(ctx context.Context, nodes []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(nodes) == 0 {
		return out, nil
	}
	args := make([]any, len(nodes))
	for i, n := range nodes {
		args[i] = n
	}
	rows, err := s.db.QueryContext(ctx, s.engine.rebind(`SELECT DISTINCT node_uuid FROM intents WHERE node_uuid IN (`+
		placeholders(len(nodes))+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("intents on nodes: %w", s.engine.unavailable(err))
	}
	defer func() { _ = rows.Close() }() // rows.Err reports failures
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("intents on nodes: %w", err)
		}
		out[n] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("intents on nodes: %w", err)
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func scanIntents(rows *sql.Rows) ([]Intent, error) {
	defer func() { _ = rows.Close() }() // rows.Err reports failures
	var out []Intent
	for rows.Next() {
		var in Intent
		var steps string
		var lastErr sql.NullString
		var lease, created, updated timeScanner
		if err := rows.Scan(&in.ServerUUID, &in.NodeUUID, &in.Backend, &in.MigrationUUID, &in.CancelRequested, &in.Action, &in.State, &steps, &in.RequestID,
			&in.UserID, &in.ProjectID, &in.Owner, &in.OwnerEpoch, &in.Fence, &lease, &lastErr, &created, &updated); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(steps), &in.Steps); err != nil {
			return nil, fmt.Errorf("intent of server %s: steps: %w", in.ServerUUID, err)
		}
		in.LastError = lastErr.String
		in.LeaseExpiresAt, in.CreatedAt, in.UpdatedAt = lease.t, created.t, updated.t
		out = append(out, in)
	}
	return out, rows.Err()
}

// Tombstones returns up to limit tombstones made at or after since, oldest
// first.
func (s *sqlStore) Tombstones(ctx context.Context, since time.Time, limit int) ([]Tombstone, error) {
	rows, err := s.db.QueryContext(ctx, s.engine.rebind(`SELECT server_uuid, node_uuid, backend, created_at FROM tombstones
		WHERE created_at >= ? ORDER BY created_at, server_uuid LIMIT ?`), s.engine.timeArg(normalizeTime(since)), limit)
	if err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	defer func() { _ = rows.Close() }() // rows.Err reports failures
	var out []Tombstone
	for rows.Next() {
		var t Tombstone
		var created timeScanner
		if err := rows.Scan(&t.ServerUUID, &t.NodeUUID, &t.Backend, &created); err != nil {
			return nil, fmt.Errorf("tombstones: %w", err)
		}
		t.CreatedAt = created.t
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	return out, nil
}

// PurgeTombstones deletes the tombstones made before the given time.
func (s *sqlStore) PurgeTombstones(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.engine.rebind(`DELETE FROM tombstones WHERE created_at < ?`),
		s.engine.timeArg(normalizeTime(before)))
	if err != nil {
		return 0, fmt.Errorf("purge tombstones: %w", err)
	}
	return res.RowsAffected()
}

// ServerByNode returns the server holding the node, or ErrNotFound.
func (s *sqlStore) ServerByNode(ctx context.Context, nodeUUID string) (Server, error) {
	srv, err := scanServer(s.db.QueryRowContext(ctx, s.q.byNode, nodeUUID))
	if errors.Is(err, sql.ErrNoRows) {
		return Server{}, fmt.Errorf("server of node %s: %w", nodeUUID, ErrNotFound)
	}
	if err != nil {
		return Server{}, fmt.Errorf("server of node %s: %w", nodeUUID, err)
	}
	return srv, nil
}

// SetServerState records what the reconciler found of a settled server's
// node: status, power state, fault. A server with an intent in progress is
// left alone (its intent decides), and so is one gone meanwhile.
func (s *sqlStore) SetServerState(ctx context.Context, serverUUID, status, powerState, fault string) error {
	_, err := s.db.ExecContext(ctx, s.engine.rebind(`UPDATE servers SET status = ?, power_state = ?, fault = ?, updated_at = ?
		WHERE uuid = ? AND status <> ? AND NOT EXISTS (SELECT 1 FROM intents WHERE intents.server_uuid = servers.uuid)`),
		status, powerState, nullString(fault), s.engine.timeArg(normalizeTime(time.Now())), serverUUID, StatusBuilding)
	if err != nil {
		return fmt.Errorf("state of server %s: %w", serverUUID, err)
	}
	return nil
}

// inTx runs fn in a transaction, committed when fn returns nil.
func (s *sqlStore) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", s.engine.unavailable(err))
	}
	if err := fn(tx); err != nil {
		// A dropped connection fails the statement and the rollback: the
		// statement's error says what happened, marked unavailable.
		_ = tx.Rollback()
		return s.engine.unavailable(err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", s.engine.unavailable(err))
	}
	return nil
}
