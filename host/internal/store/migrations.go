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

// Migration statuses.
const (
	MigrationPending    = "pending"
	MigrationRunning    = "running"
	MigrationDone       = "done"
	MigrationFailed     = "failed"
	MigrationRolledBack = "rolled_back"

	// ActionMigrate is a migration's intent (keyed by the migration's
	// uuid).
	ActionMigrate = "migrate"
)

// Migration kinds.
const (
	KindInventory = "inventory"
	KindHandoff   = "handoff"
)

// More errors of migrations.
var (
	// ErrKeyUsed: the idempotency key names a migration that was not
	// rolled back; MigrationByKey returns it.
	ErrKeyUsed = errors.New("the idempotency key is used by another migration")
	// ErrNodeClaimed: another migration (or an adoption) holds the node.
	ErrNodeClaimed = errors.New("the node is claimed by another migration or adoption")
	// ErrCommitted: a cancel of a migration whose commit is recorded (or
	// that is over).
	ErrCommitted = errors.New("the migration can no longer be cancelled")
	// ErrCancelled: the migration was cancelled; its run undoes what it
	// did.
	ErrCancelled = errors.New("the migration was cancelled")
)

// Migration is a migration as the API shows it and the store keeps it.
type Migration struct {
	UUID          string
	Status        string
	Kind          string
	SourceBackend string
	TargetBackend string
	NodeUUID      string
	ServerUUID    string
	// Request is the request as the API took it, without secrets; Plan is
	// what the run needs, resolved. Both are JSON the application layer
	// owns.
	Request json.RawMessage
	Plan    json.RawMessage
	// Steps are the steps as they ended; while the migration runs, its
	// intent's are the truth (GetMigration reads them).
	Steps          []Step
	IdempotencyKey string
	BodyHash       string
	RequestID      string
	UserID         string
	ProjectID      string
	Error          string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// MigrationTombstone is a rolled-back migration whose late requests the
// reconciler watches for: a target node carrying its marker, a source
// node it still holds.
type MigrationTombstone struct {
	MigrationUUID string
	TargetBackend string
	NodeUUID      string
	SourceBackend string
	CreatedAt     time.Time
}

// MigrationEnd ends a migration's intent: its status (done, failed or
// rolled_back) and why, its steps as they ended, and for a rolled-back
// one a tombstone. The node's claim is released unless the migration
// failed (a failed one keeps it for its retry).
type MigrationEnd struct {
	Status     string
	ServerUUID string
	Error      string
}

const migrationColumns = `uuid, status, kind, source_backend, target_backend, node_uuid, server_uuid, request, plan, steps,
	idempotency_key, body_hash, request_id, user_id, project_id, error, created_at, updated_at`

// CreateMigration records a migration (pending) with its intent and its
// claim on the node, in one transaction: ErrKeyUsed when its idempotency
// key names a migration that was not rolled back, ErrNodeClaimed when
// another migration or an adoption holds the node, ErrNodeTaken when a
// server holds it.
func (s *sqlStore) CreateMigration(ctx context.Context, m Migration, in Intent) error {
	now := normalizeTime(time.Now())
	m.CreatedAt, m.UpdatedAt = now, now
	steps, err := json.Marshal(stepsOrEmpty(m.Steps))
	if err != nil {
		return err
	}
	in.ServerUUID, in.NodeUUID, in.Action, in.MigrationUUID = m.UUID, m.NodeUUID, ActionMigrate, m.UUID
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.claimNode(ctx, tx, m.NodeUUID, m.UUID, ""); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, s.engine.rebind(`SELECT 1 FROM servers WHERE node_uuid = ?`), m.NodeUUID).Scan(&one)
		if err == nil {
			return fmt.Errorf("migration of node %s: %w", m.NodeUUID, ErrNodeTaken)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx, s.engine.rebind(`INSERT INTO migrations (`+migrationColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			m.UUID, m.Status, m.Kind, m.SourceBackend, m.TargetBackend, m.NodeUUID, nullString(m.ServerUUID),
			string(m.Request), string(m.Plan), string(steps), nullString(m.IdempotencyKey), m.BodyHash,
			m.RequestID, m.UserID, m.ProjectID, nullString(m.Error), s.engine.timeArg(now), s.engine.timeArg(now))
		if err != nil {
			if isUnique(err, "migrations_idempotency_key_idx", "migrations.idempotency_key") {
				return fmt.Errorf("migration %s: %w", m.UUID, ErrKeyUsed)
			}
			return fmt.Errorf("migration %s: %w", m.UUID, err)
		}
		return s.insertIntent(ctx, tx, in)
	})
}

// claimNode takes the claim on node for holder; a claim already held by
// holder, or by also (the migration an adoption runs for), is fine.
func (s *sqlStore) claimNode(ctx context.Context, tx *sql.Tx, node, holder, also string) error {
	_, err := tx.ExecContext(ctx, s.engine.rebind(`INSERT INTO node_claims (node_uuid, holder, created_at) VALUES (?, ?, ?)
		ON CONFLICT (node_uuid) DO NOTHING`), node, holder, s.engine.timeArg(normalizeTime(time.Now())))
	if err != nil {
		return fmt.Errorf("claim of node %s: %w", node, err)
	}
	var by string
	if err := tx.QueryRowContext(ctx, s.engine.rebind(`SELECT holder FROM node_claims WHERE node_uuid = ?`), node).Scan(&by); err != nil {
		return fmt.Errorf("claim of node %s: %w", node, err)
	}
	if by == holder || (also != "" && by == also) {
		return nil
	}
	var one int
	switch err := tx.QueryRowContext(ctx, s.engine.rebind(`SELECT 1 FROM migrations WHERE uuid = ?`), by).Scan(&one); {
	case err == nil:
		return fmt.Errorf("node %s (migration %s): %w", node, by, ErrNodeClaimed)
	case errors.Is(err, sql.ErrNoRows): // another adoption's
		return fmt.Errorf("node %s: %w", node, ErrNodeTaken)
	default:
		return fmt.Errorf("claim of node %s: %w", node, err)
	}
}

func isUnique(err error, names ...string) bool {
	msg := err.Error()
	if !strings.Contains(msg, "unique") && !strings.Contains(msg, "UNIQUE") && !strings.Contains(msg, "23505") {
		return false
	}
	for _, n := range names {
		if strings.Contains(msg, n) {
			return true
		}
	}
	return false
}

// GetMigration returns a migration (ErrNotFound); while it runs, its
// steps and cancel flag are its intent's.
func (s *sqlStore) GetMigration(ctx context.Context, uuid string) (Migration, error) {
	ms, err := s.queryMigrations(ctx, `WHERE uuid = ?`, uuid)
	if err != nil {
		return Migration{}, err
	}
	if len(ms) == 0 {
		return Migration{}, fmt.Errorf("migration %s: %w", uuid, ErrNotFound)
	}
	return s.withIntentSteps(ctx, ms[0])
}

// withIntentSteps puts a running migration's live steps in place of the
// recorded ones.
func (s *sqlStore) withIntentSteps(ctx context.Context, m Migration) (Migration, error) {
	if m.Status != MigrationPending && m.Status != MigrationRunning {
		return m, nil
	}
	in, err := s.GetIntent(ctx, m.UUID)
	if errors.Is(err, ErrNotFound) {
		return m, nil
	}
	if err != nil {
		return Migration{}, err
	}
	m.Steps = in.Steps
	return m, nil
}

// MigrationByKey returns the migration an idempotency key names (not a
// rolled-back one), or ErrNotFound.
func (s *sqlStore) MigrationByKey(ctx context.Context, key string) (Migration, error) {
	ms, err := s.queryMigrations(ctx, `WHERE idempotency_key = ? AND status <> ?`, key, MigrationRolledBack)
	if err != nil {
		return Migration{}, err
	}
	if len(ms) == 0 {
		return Migration{}, fmt.Errorf("migration with key: %w", ErrNotFound)
	}
	return s.withIntentSteps(ctx, ms[0])
}

// MigrationListOptions page through migrations, newest first.
type MigrationListOptions struct {
	Status string
	Limit  int
	// Marker starts after this migration (ErrNotFound when there is
	// none).
	Marker string
}

// ListMigrations lists migrations, newest first.
func (s *sqlStore) ListMigrations(ctx context.Context, opts MigrationListOptions) ([]Migration, error) {
	var where []string
	var args []any
	if opts.Status != "" {
		where = append(where, `status = ?`)
		args = append(args, opts.Status)
	}
	if opts.Marker != "" {
		var created timeScanner
		err := s.db.QueryRowContext(ctx, s.engine.rebind(`SELECT created_at FROM migrations WHERE uuid = ?`), opts.Marker).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("marker %s: %w", opts.Marker, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("marker %s: %w", opts.Marker, s.engine.unavailable(err))
		}
		where = append(where, `(created_at < ? OR (created_at = ? AND uuid < ?))`)
		args = append(args, s.engine.timeArg(created.t), s.engine.timeArg(created.t), opts.Marker)
	}
	q := ""
	if len(where) > 0 {
		q = "WHERE " + strings.Join(where, " AND ")
	}
	q += ` ORDER BY created_at DESC, uuid DESC`
	if opts.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", opts.Limit)
	}
	ms, err := s.queryMigrations(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		if ms[i], err = s.withIntentSteps(ctx, ms[i]); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

func (s *sqlStore) queryMigrations(ctx context.Context, tail string, args ...any) ([]Migration, error) {
	rows, err := s.db.QueryContext(ctx, s.engine.rebind(`SELECT `+migrationColumns+` FROM migrations `+tail), args...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", s.engine.unavailable(err))
	}
	defer func() { _ = rows.Close() }() // rows.Err reports failures
	var out []Migration
	for rows.Next() {
		var m Migration
		var server, key, errText sql.NullString
		var request, plan, steps string
		var created, updated timeScanner
		if err := rows.Scan(&m.UUID, &m.Status, &m.Kind, &m.SourceBackend, &m.TargetBackend, &m.NodeUUID, &server,
			&request, &plan, &steps, &key, &m.BodyHash, &m.RequestID, &m.UserID, &m.ProjectID, &errText,
			&created, &updated); err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		m.ServerUUID, m.IdempotencyKey, m.Error = server.String, key.String, errText.String
		m.Request, m.Plan = json.RawMessage(request), json.RawMessage(plan)
		if err := json.Unmarshal([]byte(steps), &m.Steps); err != nil {
			return nil, fmt.Errorf("migration %s: steps: %w", m.UUID, err)
		}
		m.CreatedAt, m.UpdatedAt = created.t, updated.t
		out = append(out, m)
	}
	return out, rows.Err()
}

// SetMigrationStatus records a running migration's status (pending →
// running), fenced by its intent.
func (s *sqlStore) SetMigrationStatus(ctx context.Context, in Intent, status string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.engine.rebind(`UPDATE intents SET updated_at = ? WHERE `+fenced),
			append([]any{s.engine.timeArg(normalizeTime(time.Now()))}, fenceArgs(in)...)...)
		if err != nil {
			return err
		}
		if err := leaseHeld(res, in.ServerUUID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.engine.rebind(`UPDATE migrations SET status = ?, updated_at = ? WHERE uuid = ?`),
			status, s.engine.timeArg(normalizeTime(time.Now())), in.ServerUUID)
		return err
	})
}

// EndMigration deletes a migration's intent (if its holder still holds it)
// and records how it ended, in one transaction: its status, error, server
// and steps; the node's claim released unless it failed (its retry needs
// it); a tombstone when it was rolled back.
func (s *sqlStore) EndMigration(ctx context.Context, in Intent, end MigrationEnd) error {
	steps, err := json.Marshal(stepsOrEmpty(in.Steps))
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.engine.rebind(`DELETE FROM intents WHERE `+fenced), fenceArgs(in)...)
		if err != nil {
			return fmt.Errorf("end migration %s: %w", in.ServerUUID, err)
		}
		if err := leaseHeld(res, in.ServerUUID); err != nil {
			return err
		}
		now := s.engine.timeArg(normalizeTime(time.Now()))
		_, err = tx.ExecContext(ctx, s.engine.rebind(`UPDATE migrations SET status = ?, error = ?, steps = ?,
			server_uuid = COALESCE(?, server_uuid), updated_at = ? WHERE uuid = ?`),
			end.Status, nullString(end.Error), string(steps), nullString(end.ServerUUID), now, in.ServerUUID)
		if err != nil {
			return fmt.Errorf("end migration %s: %w", in.ServerUUID, err)
		}
		if end.Status != MigrationFailed {
			if _, err := tx.ExecContext(ctx, s.engine.rebind(`DELETE FROM node_claims WHERE holder = ?`), in.ServerUUID); err != nil {
				return fmt.Errorf("end migration %s: %w", in.ServerUUID, err)
			}
		}
		if end.Status == MigrationRolledBack {
			_, err := tx.ExecContext(ctx, s.engine.rebind(`INSERT INTO migration_tombstones
				(migration_uuid, target_backend, node_uuid, source_backend, created_at)
				SELECT uuid, target_backend, node_uuid, source_backend, ? FROM migrations WHERE uuid = ?
				ON CONFLICT (migration_uuid) DO NOTHING`), now, in.ServerUUID)
			if err != nil {
				return fmt.Errorf("tombstone of migration %s: %w", in.ServerUUID, err)
			}
		}
		return nil
	})
}

// RetryMigration takes a failed migration up again: running, with a new
// intent (its node's claim is still its own).
func (s *sqlStore) RetryMigration(ctx context.Context, in Intent) error {
	in.Action, in.MigrationUUID = ActionMigrate, in.ServerUUID
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.engine.rebind(`UPDATE migrations SET status = ?, error = NULL, updated_at = ?
			WHERE uuid = ? AND status = ?`),
			MigrationRunning, s.engine.timeArg(normalizeTime(time.Now())), in.ServerUUID, MigrationFailed)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("migration %s: %w", in.ServerUUID, ErrCommitted))
		}
		return s.insertIntent(ctx, tx, in)
	})
}

// RequestCancel sets the cancel flag of a running migration's intent:
// ErrNotFound when it has none (it is over), ErrCommitted when a step
// recorded as its commit makes it forward-only (the caller says which
// step names commit).
func (s *sqlStore) RequestCancel(ctx context.Context, uuid string, commits func([]Step) bool) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var steps string
		err := tx.QueryRowContext(ctx, s.engine.rebind(`SELECT steps FROM intents WHERE server_uuid = ? AND action = ?`),
			uuid, ActionMigrate).Scan(&steps)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("migration %s: %w", uuid, ErrNotFound)
		}
		if err != nil {
			return err
		}
		var st []Step
		if err := json.Unmarshal([]byte(steps), &st); err != nil {
			return err
		}
		if commits(st) {
			return fmt.Errorf("migration %s: %w", uuid, ErrCommitted)
		}
		_, err = tx.ExecContext(ctx, s.engine.rebind(`UPDATE intents SET cancel_requested = ? WHERE server_uuid = ?`), true, uuid)
		return err
	})
}

// CancelRequested reports whether a migration's intent was asked to stop.
func (s *sqlStore) CancelRequested(ctx context.Context, in Intent) (bool, error) {
	var cancel bool
	err := s.db.QueryRowContext(ctx, s.engine.rebind(`SELECT cancel_requested FROM intents WHERE `+fenced), fenceArgs(in)...).Scan(&cancel)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("intent of migration %s: %w", in.ServerUUID, ErrLeaseLost)
	}
	if err != nil {
		return false, fmt.Errorf("intent of migration %s: %w", in.ServerUUID, s.engine.unavailable(err))
	}
	return cancel, nil
}

// ClaimedNodes reports which of nodes a migration holds (by migration).
func (s *sqlStore) ClaimedNodes(ctx context.Context, nodes []string) (map[string]string, error) {
	out := map[string]string{}
	if len(nodes) == 0 {
		return out, nil
	}
	args := make([]any, len(nodes))
	for i, n := range nodes {
		args[i] = n
	}
	rows, err := s.db.QueryContext(ctx, s.engine.rebind(`SELECT c.node_uuid, c.holder FROM node_claims c
		JOIN migrations m ON m.uuid = c.holder WHERE c.node_uuid IN (`+placeholders(len(nodes))+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("node claims: %w", s.engine.unavailable(err))
	}
	defer func() { _ = rows.Close() }() // rows.Err reports failures
	for rows.Next() {
		var n, h string
		if err := rows.Scan(&n, &h); err != nil {
			return nil, err
		}
		out[n] = h
	}
	return out, rows.Err()
}

// MigrationClaims counts the nodes migrations hold (a listing skips
// looking them up when none does, and reads that many more to fill a page
// it filters them out of).
func (s *sqlStore) MigrationClaims(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM node_claims c JOIN migrations m ON m.uuid = c.holder`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("node claims: %w", s.engine.unavailable(err))
	}
	return n, nil
}

// MigrationTombstones returns up to limit tombstones made at or after
// since, oldest first.
func (s *sqlStore) MigrationTombstones(ctx context.Context, since time.Time, limit int) ([]MigrationTombstone, error) {
	rows, err := s.db.QueryContext(ctx, s.engine.rebind(`SELECT migration_uuid, target_backend, node_uuid, source_backend, created_at
		FROM migration_tombstones WHERE created_at >= ? ORDER BY created_at, migration_uuid LIMIT ?`),
		s.engine.timeArg(normalizeTime(since)), limit)
	if err != nil {
		return nil, fmt.Errorf("migration tombstones: %w", s.engine.unavailable(err))
	}
	defer func() { _ = rows.Close() }() // rows.Err reports failures
	var out []MigrationTombstone
	for rows.Next() {
		var t MigrationTombstone
		var created timeScanner
		if err := rows.Scan(&t.MigrationUUID, &t.TargetBackend, &t.NodeUUID, &t.SourceBackend, &created); err != nil {
			return nil, err
		}
		t.CreatedAt = created.t
		out = append(out, t)
	}
	return out, rows.Err()
}

// PurgeMigrationTombstones deletes those made before the given time.
func (s *sqlStore) PurgeMigrationTombstones(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.engine.rebind(`DELETE FROM migration_tombstones WHERE created_at < ?`),
		s.engine.timeArg(normalizeTime(before)))
	if err != nil {
		return 0, fmt.Errorf("purge migration tombstones: %w", s.engine.unavailable(err))
	}
	return res.RowsAffected()
}
