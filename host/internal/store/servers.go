package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// sqlStore is the Store over database/sql, for both engines.
type sqlStore struct {
	db     *sql.DB
	engine engine
	q      queries
}

var _ Store = (*sqlStore)(nil)

func newSQLStore(db *sql.DB, e engine) *sqlStore {
	return &sqlStore{db: db, engine: e, q: newQueries(e)}
}

// serverColumns lists the servers table's columns in the order columnArgs
// writes and scanServer reads them.
var serverColumns = []string{
	"uuid", "name", "description", "node_uuid", "node_name", "image_uuid", "flavor_uuid",
	"status", "power_state", "locked", "project_id", "user_id",
	"availability_zone", "affinity_zone", "key_name",
	"metadata", "system_metadata", "addresses", "partitions",
	"created_at", "launched_at", "updated_at", "bindings", "fault", "backend",
}

// queries are the fixed statements, built once in the engine's placeholder
// style.
type queries struct {
	insert, update, get, byNode, delete, marker, markerInProject string
	// selectAll is the start of a list query.
	selectAll string
	// updateArgs are the positions in columnArgs of update's SET values;
	// update's arguments are those, then the uuid.
	updateArgs []int
}

func newQueries(e engine) queries {
	list := strings.Join(serverColumns, ", ")
	var set []string
	var updateArgs []int
	for i, c := range serverColumns {
		if c == "uuid" || c == "created_at" { // UpdateServer never changes them
			continue
		}
		set = append(set, c+" = ?")
		updateArgs = append(updateArgs, i)
	}
	return queries{
		insert: e.rebind(`INSERT INTO servers (` + list + `) VALUES (` +
			strings.TrimSuffix(strings.Repeat("?, ", len(serverColumns)), ", ") + `)`),
		update:          e.rebind(`UPDATE servers SET ` + strings.Join(set, ", ") + ` WHERE uuid = ? RETURNING created_at`),
		get:             e.rebind(`SELECT ` + list + ` FROM servers WHERE uuid = ?`),
		byNode:          e.rebind(`SELECT ` + list + ` FROM servers WHERE node_uuid = ?`),
		delete:          e.rebind(`DELETE FROM servers WHERE uuid = ?`),
		marker:          e.rebind(`SELECT created_at FROM servers WHERE uuid = ?`),
		markerInProject: e.rebind(`SELECT created_at FROM servers WHERE uuid = ? AND project_id = ?`),
		selectAll:       `SELECT ` + list + ` FROM servers`,
		updateArgs:      updateArgs,
	}
}

// CreateServer implements Store. A zero CreatedAt is set to now.
func (s *sqlStore) CreateServer(ctx context.Context, srv Server) error {
	if srv.UUID == "" || srv.NodeUUID == "" {
		return errors.New("create server: uuid and node_uuid are required")
	}
	if srv.CreatedAt.IsZero() {
		srv.CreatedAt = time.Now()
	}
	srv = normalizeTimes(srv)
	args, err := s.columnArgs(srv)
	if err != nil {
		return fmt.Errorf("create server %s: %w", srv.UUID, err)
	}
	if _, err := s.db.ExecContext(ctx, s.q.insert, args...); err != nil {
		return fmt.Errorf("create server %s: %w", srv.UUID, s.engine.classify(err))
	}
	return nil
}

// UpdateServer implements Store. Every field but UUID and CreatedAt is
// replaced; the stored CreatedAt comes back in the result.
func (s *sqlStore) UpdateServer(ctx context.Context, srv Server) (Server, error) {
	return s.updateServer(ctx, s.db, srv)
}

// queryRower is *sql.DB or *sql.Tx.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *sqlStore) updateServer(ctx context.Context, db queryRower, srv Server) (Server, error) {
	if srv.UUID == "" || srv.NodeUUID == "" {
		return Server{}, errors.New("update server: uuid and node_uuid are required")
	}
	now := time.Now()
	srv.UpdatedAt = &now
	srv = normalizeTimes(srv)
	all, err := s.columnArgs(srv)
	if err != nil {
		return Server{}, fmt.Errorf("update server %s: %w", srv.UUID, err)
	}
	args := make([]any, 0, len(s.q.updateArgs)+1)
	for _, i := range s.q.updateArgs {
		args = append(args, all[i])
	}
	args = append(args, srv.UUID)
	var created timeScanner
	err = db.QueryRowContext(ctx, s.q.update, args...).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return Server{}, fmt.Errorf("update server %s: %w", srv.UUID, ErrNotFound)
	}
	if err != nil {
		return Server{}, fmt.Errorf("update server %s: %w", srv.UUID, s.engine.classify(err))
	}
	srv.CreatedAt = created.t
	return srv, nil
}

// GetServer implements Store.
func (s *sqlStore) GetServer(ctx context.Context, uuid string) (Server, error) {
	srv, err := scanServer(s.db.QueryRowContext(ctx, s.q.get, uuid))
	if errors.Is(err, sql.ErrNoRows) {
		return Server{}, fmt.Errorf("get server %s: %w", uuid, ErrNotFound)
	}
	if err != nil {
		return Server{}, fmt.Errorf("get server %s: %w", uuid, err)
	}
	return srv, nil
}

// ListServers implements Store: ordered by (created_at, uuid); a marker
// outside the project filter is not found, like an unknown one.
func (s *sqlStore) ListServers(ctx context.Context, opts ListOptions) ([]Server, error) {
	if opts.Limit < 0 {
		return nil, fmt.Errorf("list servers: negative limit %d", opts.Limit)
	}
	var where []string
	var args []any
	if opts.ProjectID != "" {
		where = append(where, "project_id = ?")
		args = append(args, opts.ProjectID)
	}
	if opts.Marker != "" {
		// Row-value comparison against the marker's own sort key. The
		// marker is looked up first so an unknown one is an error rather
		// than an empty page.
		var created timeScanner
		mq, margs := s.q.marker, []any{opts.Marker}
		if opts.ProjectID != "" {
			mq, margs = s.q.markerInProject, append(margs, opts.ProjectID)
		}
		err := s.db.QueryRowContext(ctx, mq, margs...).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("list servers: marker %s: %w", opts.Marker, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("list servers: marker %s: %w", opts.Marker, err)
		}
		where = append(where, "(created_at, uuid) > (?, ?)")
		args = append(args, s.engine.timeArg(created.t), opts.Marker)
	}
	q := s.q.selectAll
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY created_at, uuid`
	if opts.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, opts.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.engine.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("list servers: %w", err)
	}
	defer func() { _ = rows.Close() }() // rows.Err below reports failures
	servers := []Server{}
	for rows.Next() {
		srv, err := scanServer(rows)
		if err != nil {
			return nil, fmt.Errorf("list servers: %w", err)
		}
		servers = append(servers, srv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list servers: %w", err)
	}
	return servers, nil
}

// DeleteServer implements Store.
func (s *sqlStore) DeleteServer(ctx context.Context, uuid string) error {
	res, err := s.db.ExecContext(ctx, s.q.delete, uuid)
	if err != nil {
		return fmt.Errorf("delete server %s: %w", uuid, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete server %s: %w", uuid, err)
	}
	if n == 0 {
		return fmt.Errorf("delete server %s: %w", uuid, ErrNotFound)
	}
	return nil
}

// Close implements Store.
func (s *sqlStore) Close() error {
	return s.db.Close()
}
