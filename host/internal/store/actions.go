package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The audit trail: an action is a finished intent, as Nova's instance
// actions are, recorded by EndIntent in the transaction that deletes the
// intent. Actions outlive their server: a released or rolled-back server
// uuid keeps its actions.

// Action results.
const (
	ResultSuccess = "success"
	ResultError   = "error"
)

// Action is one finished adoption or release of a server.
type Action struct {
	ServerUUID string
	// Action is ActionManage or ActionUnmanage.
	Action string
	// RequestID, UserID and ProjectID are the request that began it and
	// its caller (not the server's owner).
	RequestID  string
	UserID     string
	ProjectID  string
	StartTime  time.Time
	FinishTime time.Time
	// Result is ResultSuccess or ResultError.
	Result string
	// Message is the fault of an error, "" on success.
	Message string
}

const actionColumns = `server_uuid, action, request_id, user_id, project_id, start_time, finish_time, result, message`

// recordAction turns owner's intent of serverUUID into an action, inside
// tx and before the intent is deleted: its start is the intent's creation.
// Nothing is inserted when the intent is not owner's (the caller's delete
// then fails with ErrLeaseLost and the transaction rolls back).
func (s *sqlStore) recordAction(ctx context.Context, tx *sql.Tx, in Intent, fault string) error {
	result := ResultSuccess
	if fault != "" {
		result = ResultError
	}
	_, err := tx.ExecContext(ctx, s.engine.rebind(`INSERT INTO actions (`+actionColumns+`)
		SELECT server_uuid, action, request_id, user_id, project_id, created_at, ?, ?, ?
		FROM intents WHERE server_uuid = ? AND owner = ?`),
		s.engine.timeArg(normalizeTime(time.Now())), result, nullString(fault), in.ServerUUID, in.Owner)
	if err != nil {
		return fmt.Errorf("action of server %s: %w", in.ServerUUID, err)
	}
	return nil
}

// Actions returns the server's actions, newest first; none is an empty
// list, not an error.
func (s *sqlStore) Actions(ctx context.Context, serverUUID string) ([]Action, error) {
	rows, err := s.db.QueryContext(ctx, s.engine.rebind(`SELECT `+actionColumns+` FROM actions
		WHERE server_uuid = ? ORDER BY start_time DESC, id DESC`), serverUUID)
	if err != nil {
		return nil, fmt.Errorf("actions of server %s: %w", serverUUID, err)
	}
	out, err := scanActions(rows)
	if err != nil {
		return nil, fmt.Errorf("actions of server %s: %w", serverUUID, err)
	}
	return out, nil
}

// ActionByRequest returns the server's action begun by requestID, or
// ErrNotFound.
func (s *sqlStore) ActionByRequest(ctx context.Context, serverUUID, requestID string) (Action, error) {
	rows, err := s.db.QueryContext(ctx, s.engine.rebind(`SELECT `+actionColumns+` FROM actions
		WHERE server_uuid = ? AND request_id = ? ORDER BY start_time DESC, id DESC LIMIT 1`), serverUUID, requestID)
	if err != nil {
		return Action{}, fmt.Errorf("action %s of server %s: %w", requestID, serverUUID, err)
	}
	out, err := scanActions(rows)
	if err != nil {
		return Action{}, fmt.Errorf("action %s of server %s: %w", requestID, serverUUID, err)
	}
	if len(out) == 0 {
		return Action{}, fmt.Errorf("action %s of server %s: %w", requestID, serverUUID, ErrNotFound)
	}
	return out[0], nil
}

func scanActions(rows *sql.Rows) ([]Action, error) {
	defer func() { _ = rows.Close() }() // rows.Err reports failures
	out := []Action{}
	for rows.Next() {
		var a Action
		var start, finish timeScanner
		var message sql.NullString
		if err := rows.Scan(&a.ServerUUID, &a.Action, &a.RequestID, &a.UserID, &a.ProjectID,
			&start, &finish, &a.Result, &message); err != nil {
			return nil, err
		}
		if !start.valid || !finish.valid {
			return nil, errors.New("action without start or finish time")
		}
		a.StartTime, a.FinishTime, a.Message = start.t, finish.t, message.String
		out = append(out, a)
	}
	return out, rows.Err()
}
