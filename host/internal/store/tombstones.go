package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// BindingTombstone is a Neutron port an adoption or a release touched,
// with the binding it had before we touched it. The reconciler keeps each
// such port at its wanted binding for the tombstone retention: bound to
// the node when a live server records the port, else this previous
// binding. A late request (a binding PUT that lands after its caller gave
// up) is thus repaired without scanning every port.
type BindingTombstone struct {
	PortID       string
	NodeUUID     string
	Backend      string // the node's
	PrevHostID   string
	PrevVNICType string
	CreatedAt    time.Time
}

// SaveBindingTombstone records t, or refreshes the tombstone of its port:
// its node, previous binding and time (the caller worked out the previous
// binding from the one recorded before, when it had one).
func (s *sqlStore) SaveBindingTombstone(ctx context.Context, t BindingTombstone) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	_, err := s.db.ExecContext(ctx, s.engine.rebind(`INSERT INTO binding_tombstones
		(port_id, node_uuid, backend, prev_host_id, prev_vnic_type, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (port_id) DO UPDATE SET node_uuid = excluded.node_uuid, backend = excluded.backend,
		prev_host_id = excluded.prev_host_id,
		prev_vnic_type = excluded.prev_vnic_type, created_at = excluded.created_at`),
		t.PortID, t.NodeUUID, t.Backend, t.PrevHostID, t.PrevVNICType, s.engine.timeArg(normalizeTime(t.CreatedAt)))
	if err != nil {
		return fmt.Errorf("binding tombstone of port %s: %w", t.PortID, s.engine.unavailable(err))
	}
	return nil
}

// BindingTombstonesOf returns the tombstones of ports made at or after
// since, by port.
func (s *sqlStore) BindingTombstonesOf(ctx context.Context, ports []string, since time.Time) (map[string]BindingTombstone, error) {
	out := map[string]BindingTombstone{}
	if len(ports) == 0 {
		return out, nil
	}
	args := []any{s.engine.timeArg(normalizeTime(since))}
	for _, p := range ports {
		args = append(args, p)
	}
	rows, err := s.db.QueryContext(ctx, s.engine.rebind(`SELECT port_id, node_uuid, backend, prev_host_id, prev_vnic_type, created_at
		FROM binding_tombstones WHERE created_at >= ? AND port_id IN (`+placeholders(len(ports))+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("binding tombstones: %w", s.engine.unavailable(err))
	}
	ts, err := scanBindingTombstones(rows)
	for _, t := range ts {
		out[t.PortID] = t
	}
	return out, err
}

// BindingTombstones returns up to limit tombstones made at or after since
// whose port id is after afterPort, in port order (a reconciler pass
// pages through them).
func (s *sqlStore) BindingTombstones(ctx context.Context, since time.Time, afterPort string, limit int) ([]BindingTombstone, error) {
	rows, err := s.db.QueryContext(ctx, s.engine.rebind(`SELECT port_id, node_uuid, backend, prev_host_id, prev_vnic_type, created_at
		FROM binding_tombstones WHERE created_at >= ? AND port_id > ? ORDER BY port_id LIMIT ?`),
		s.engine.timeArg(normalizeTime(since)), afterPort, limit)
	if err != nil {
		return nil, fmt.Errorf("binding tombstones: %w", s.engine.unavailable(err))
	}
	return scanBindingTombstones(rows)
}

func scanBindingTombstones(rows *sql.Rows) ([]BindingTombstone, error) {
	defer func() { _ = rows.Close() }() // rows.Err reports failures
	var out []BindingTombstone
	for rows.Next() {
		var t BindingTombstone
		var created timeScanner
		if err := rows.Scan(&t.PortID, &t.NodeUUID, &t.Backend, &t.PrevHostID, &t.PrevVNICType, &created); err != nil {
			return nil, fmt.Errorf("binding tombstones: %w", err)
		}
		t.CreatedAt = created.t
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("binding tombstones: %w", err)
	}
	return out, nil
}

// PurgeBindingTombstones deletes the binding tombstones made before the
// given time.
func (s *sqlStore) PurgeBindingTombstones(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.engine.rebind(`DELETE FROM binding_tombstones WHERE created_at < ?`),
		s.engine.timeArg(normalizeTime(before)))
	if err != nil {
		return 0, fmt.Errorf("purge binding tombstones: %w", s.engine.unavailable(err))
	}
	return res.RowsAffected()
}

// StartReplica records a new start of the replica host and returns its
// epoch, one more than the last start's. The caller holds the host lock,
// so no other live process has the same host.
func (s *sqlStore) StartReplica(ctx context.Context, host string) (int64, error) {
	var epoch int64
	err := s.db.QueryRowContext(ctx, s.engine.rebind(`INSERT INTO replicas (host, epoch, started_at) VALUES (?, 1, ?)
		ON CONFLICT (host) DO UPDATE SET epoch = replicas.epoch + 1, started_at = excluded.started_at
		RETURNING epoch`), host, s.engine.timeArg(normalizeTime(time.Now()))).Scan(&epoch)
	if err != nil {
		return 0, fmt.Errorf("recording the start of replica %s: %w", host, s.engine.unavailable(err))
	}
	return epoch, nil
}

// backendTables are the tables whose rows record a backend.
var backendTables = []string{"servers", "intents", "tombstones", "binding_tombstones"}

// FillBackend records backend for every row written before rows recorded
// theirs (their backend is ""), and returns how many it filled: `mogan-api
// db sync` calls it with the one backend the configuration implies.
func (s *sqlStore) FillBackend(ctx context.Context, backend string) (int64, error) {
	var filled int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, table := range backendTables {
			res, err := tx.ExecContext(ctx, s.engine.rebind(`UPDATE `+table+` SET backend = ? WHERE backend = ''`), backend)
			if err != nil {
				return fmt.Errorf("filling the backend of %s: %w", table, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			filled += n
		}
		return nil
	})
	return filled, err
}

// BackendCounts counts the rows of each table that records a backend
// (servers, intents, tombstones, binding_tombstones), by backend: "" for
// rows written before rows recorded theirs, which db sync fills.
func (s *sqlStore) BackendCounts(ctx context.Context) (map[string]map[string]int, error) {
	out := map[string]map[string]int{}
	for _, table := range backendTables {
		out[table] = map[string]int{}
		rows, err := s.db.QueryContext(ctx, `SELECT backend, count(*) FROM `+table+` GROUP BY backend`)
		if err != nil {
			return nil, fmt.Errorf("counting %s by backend: %w", table, s.engine.unavailable(err))
		}
		for rows.Next() {
			var b string
			var n int
			if err := rows.Scan(&b, &n); err != nil {
				_ = rows.Close()
				return nil, fmt.Errorf("counting %s by backend: %w", table, err)
			}
			out[table][b] = n
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, fmt.Errorf("counting %s by backend: %w", table, err)
		}
	}
	return out, nil
}
