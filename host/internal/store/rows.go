package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Conversion between Server and the columns of the servers table, in the
// order of serverColumns. Optional strings are NULL when empty, maps are
// JSON text or NULL when nil, so every field round-trips as it was.

// columnArgs returns srv's values in serverColumns order.
func (s *sqlStore) columnArgs(srv Server) ([]any, error) {
	metadata, err := jsonArg(srv.Metadata)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	sysmeta, err := jsonArg(srv.SystemMetadata)
	if err != nil {
		return nil, fmt.Errorf("system_metadata: %w", err)
	}
	addresses, err := jsonArg(srv.Addresses)
	if err != nil {
		return nil, fmt.Errorf("addresses: %w", err)
	}
	partitions, err := jsonArg(srv.Partitions)
	if err != nil {
		return nil, fmt.Errorf("partitions: %w", err)
	}
	var bindings sql.NullString
	if srv.Bindings != nil {
		b, err := json.Marshal(srv.Bindings)
		if err != nil {
			return nil, fmt.Errorf("bindings: %w", err)
		}
		bindings = sql.NullString{String: string(b), Valid: true}
	}
	return []any{
		srv.UUID, srv.Name, nullString(srv.Description), srv.NodeUUID, nullString(srv.NodeName),
		nullString(srv.ImageUUID), nullString(srv.FlavorUUID),
		srv.Status, srv.PowerState, srv.Locked, srv.ProjectID, srv.UserID,
		nullString(srv.AvailabilityZone), nullString(srv.AffinityZone), nullString(srv.KeyName),
		metadata, sysmeta, addresses, partitions,
		s.engine.timeArg(srv.CreatedAt), s.engine.timePtrArg(srv.LaunchedAt), s.engine.timePtrArg(srv.UpdatedAt),
		bindings, nullString(srv.Fault), srv.Backend,
	}, nil
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// scanServer reads one row of serverColumns.
func scanServer(row rowScanner) (Server, error) {
	var srv Server
	var description, nodeName, imageUUID, flavorUUID, az, affinity, keyName sql.NullString
	var metadata, sysmeta, addresses, partitions, bindings, fault sql.NullString
	var created, launched, updated timeScanner
	err := row.Scan(&srv.UUID, &srv.Name, &description, &srv.NodeUUID, &nodeName, &imageUUID, &flavorUUID,
		&srv.Status, &srv.PowerState, &srv.Locked, &srv.ProjectID, &srv.UserID, &az, &affinity, &keyName,
		&metadata, &sysmeta, &addresses, &partitions, &created, &launched, &updated, &bindings, &fault, &srv.Backend)
	if err != nil {
		return Server{}, err
	}
	srv.Description, srv.NodeName = description.String, nodeName.String
	srv.ImageUUID, srv.FlavorUUID = imageUUID.String, flavorUUID.String
	srv.AvailabilityZone, srv.AffinityZone, srv.KeyName = az.String, affinity.String, keyName.String
	srv.Fault = fault.String
	for _, f := range []struct {
		name string
		src  sql.NullString
		dst  any
	}{
		{"metadata", metadata, &srv.Metadata},
		{"system_metadata", sysmeta, &srv.SystemMetadata},
		{"addresses", addresses, &srv.Addresses},
		{"partitions", partitions, &srv.Partitions},
		{"bindings", bindings, &srv.Bindings},
	} {
		if !f.src.Valid {
			continue
		}
		if err := json.Unmarshal([]byte(f.src.String), f.dst); err != nil {
			return Server{}, fmt.Errorf("server %s: column %s: %w", srv.UUID, f.name, err)
		}
	}
	srv.CreatedAt = created.t
	srv.LaunchedAt = launched.ptr()
	srv.UpdatedAt = updated.ptr()
	return srv, nil
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// jsonArg encodes a map as JSON text, nil as NULL.
func jsonArg[M ~map[K]V, K comparable, V any](m M) (sql.NullString, error) {
	if m == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// normalizeTimes puts srv's times in UTC at TimePrecision, as they will be
// stored, without touching the caller's pointers.
func normalizeTimes(srv Server) Server {
	srv.CreatedAt = normalizeTime(srv.CreatedAt)
	if srv.LaunchedAt != nil {
		t := normalizeTime(*srv.LaunchedAt)
		srv.LaunchedAt = &t
	}
	if srv.UpdatedAt != nil {
		t := normalizeTime(*srv.UpdatedAt)
		srv.UpdatedAt = &t
	}
	return srv
}

func normalizeTime(t time.Time) time.Time {
	return t.UTC().Truncate(TimePrecision)
}

// timeScanner reads a time column of either engine: time.Time from
// PostgreSQL, fixed-width text from SQLite; NULL leaves it unset.
type timeScanner struct {
	t     time.Time
	valid bool
}

func (ts *timeScanner) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*ts = timeScanner{}
		return nil
	case time.Time:
		ts.t = v.UTC()
	case string:
		return ts.parse(v)
	case []byte:
		return ts.parse(string(v))
	default:
		return fmt.Errorf("time column holds %T", src)
	}
	ts.valid = true
	return nil
}

func (ts *timeScanner) parse(s string) error {
	t, err := time.Parse(sqliteTimeLayout, s)
	if err != nil {
		return fmt.Errorf("time column: %w", err)
	}
	ts.t, ts.valid = t, true
	return nil
}

func (ts timeScanner) ptr() *time.Time {
	if !ts.valid {
		return nil
	}
	t := ts.t
	return &t
}
