// Package store keeps adopted servers in a SQL database: SQLite (embedded,
// the default) or PostgreSQL, one schema, versioned migrations.
//
// The `[database] connection` option names the database:
// sqlite:///absolute/path/mogan.sqlite (modernc.org/sqlite, WAL) or
// postgresql://user:password@host:5432/dbname (pgx). Migrate creates or
// upgrades the schema (`mogan-api db sync`); Open refuses a database whose
// schema is older (ErrSchemaOutOfDate) or newer (ErrSchemaTooNew) than this
// build's, and OpenWithOptions can create the SQLite default at first start.
// The migrations are goose files embedded from migrations/<engine>/.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors the store returns; callers test them with errors.Is.
var (
	// ErrNotFound: no server with that UUID.
	ErrNotFound = errors.New("server not found")
	// ErrNodeTaken: another server already holds the node (the unique
	// constraint on node_uuid fired).
	ErrNodeTaken = errors.New("node is already managed by another server")
	// ErrServerExists: a server with that UUID exists.
	ErrServerExists = errors.New("server already exists")
	// ErrSchemaOutOfDate: the database has not been migrated to this
	// version's schema ("mogan-api db sync" fixes it).
	ErrSchemaOutOfDate = errors.New("database schema is out of date")
	// ErrSchemaTooNew: the database was migrated by a newer mogan-api.
	ErrSchemaTooNew = errors.New("database schema is newer than this mogan-api")
	// ErrUnavailable: the database could not be reached, or it dropped the
	// connection (terminated, restarted): nothing was decided, the caller
	// may retry.
	ErrUnavailable = errors.New("the database is unavailable")
	// ErrInvalidConnection: the `[database] connection` option cannot be
	// used (empty, malformed, unknown scheme).
	ErrInvalidConnection = errors.New("invalid [database] connection")
)

// TimePrecision is how finely the store keeps times (PostgreSQL's limit, used
// for SQLite too so both engines behave alike). Times are stored in UTC and
// truncated to it; a caller that compares with what it stored, or shows a
// time before reading it back, truncates the same way.
const TimePrecision = time.Microsecond

// Server statuses.
const (
	StatusBuilding = "building" // claimed, adoption in progress
	StatusActive   = "active"
	StatusStopped  = "stopped"
	StatusError    = "error"
)

// Address is one fixed IP of a server on a network.
type Address struct {
	Addr string `json:"addr"`
	Type string `json:"type"`
}

// Server is an adopted bare metal server. Optional strings are empty when
// unset and shown as null by the API.
type Server struct {
	UUID string
	// Backend is the backend its node belongs to ([DEFAULT]
	// enabled_backends); everything after the adoption acts there.
	Backend          string
	Name             string
	Description      string // optional
	NodeUUID         string
	NodeName         string // optional
	ImageUUID        string // optional
	FlavorUUID       string // optional; adopted servers have none
	Status           string
	PowerState       string
	Locked           bool
	ProjectID        string
	UserID           string
	AvailabilityZone string // optional
	AffinityZone     string // optional
	KeyName          string // optional
	Metadata         map[string]string
	SystemMetadata   map[string]string
	// Addresses by network id.
	Addresses map[string][]Address
	// Partitions is nil for adopted servers (their disks are as they are).
	Partitions map[string]int64
	CreatedAt  time.Time
	LaunchedAt *time.Time
	UpdatedAt  *time.Time
	// Bindings are the Neutron ports the adoption bound, with what they
	// were bound to before (restored by unmanage); nil for none.
	Bindings []Binding
	// Fault says why the server is in error ("" otherwise).
	Fault string
}

// Binding is one Neutron port an adoption bound, and its binding before.
type Binding struct {
	PortID       string `json:"port_id"`
	NetworkID    string `json:"network_id"`
	PrevHostID   string `json:"prev_host_id"`
	PrevVNICType string `json:"prev_vnic_type"`
}

// ListOptions page through servers, ordered by creation time then UUID.
type ListOptions struct {
	// Limit caps the result; 0 means no limit.
	Limit int
	// Marker starts after the server with this UUID.
	Marker string
	// ProjectID keeps only this project's servers; empty keeps all.
	ProjectID string
}

// IntentLog is the crash-safe record of adoptions and releases in
// progress (intents.go).
type IntentLog interface {
	// ClaimNode inserts srv (building) with its manage intent, atomically:
	// the claim on srv.NodeUUID (ErrNodeTaken, ErrServerExists).
	ClaimNode(ctx context.Context, srv Server, in Intent) error
	// BeginRelease records an unmanage intent for an existing server
	// (ErrNotFound, ErrIntentExists).
	BeginRelease(ctx context.Context, in Intent) error
	// SaveSteps records the steps started so far, fenced (ErrLeaseLost).
	SaveSteps(ctx context.Context, in Intent, steps []Step) error
	// SetIntentState records an intent's state and last error, fenced
	// (ErrLeaseLost).
	SetIntentState(ctx context.Context, in Intent, state, lastError string) error
	// EndIntent deletes the intent and records its outcome atomically,
	// fenced (ErrLeaseLost).
	EndIntent(ctx context.Context, in Intent, out Outcome) (Server, error)
	// GetIntent returns a server's intent or ErrNotFound.
	GetIntent(ctx context.Context, serverUUID string) (Intent, error)
	// RenewLeases extends the replica's (owner at epoch) leases on the
	// intents named (those it is working on).
	RenewLeases(ctx context.Context, owner string, epoch int64, serverUUIDs []string, until time.Time) error
	// TakeOver takes the intents the replica may repair, growing their
	// fences (see sqlStore.TakeOver).
	TakeOver(ctx context.Context, owner string, epoch int64, until time.Time) ([]Intent, error)
	// RepairCandidates lists what TakeOver would try to take, taking
	// nothing.
	RepairCandidates(ctx context.Context, owner string, epoch int64) ([]Intent, error)
	// NodesInProgress reports which of the nodes have an intent.
	NodesInProgress(ctx context.Context, nodes []string) (map[string]bool, error)
	// StartReplica records a start of the replica host and returns its
	// epoch (the caller holds the host lock).
	StartReplica(ctx context.Context, host string) (int64, error)
	// Tombstones lists tombstones made at or after since, oldest first.
	Tombstones(ctx context.Context, since time.Time, limit int) ([]Tombstone, error)
	// PurgeTombstones deletes tombstones made before the given time.
	PurgeTombstones(ctx context.Context, before time.Time) (int64, error)
	// SaveBindingTombstone records (or refreshes) a port's tombstone.
	SaveBindingTombstone(ctx context.Context, t BindingTombstone) error
	// BindingTombstonesOf returns the live tombstones of these ports.
	BindingTombstonesOf(ctx context.Context, ports []string, since time.Time) (map[string]BindingTombstone, error)
	// BindingTombstones pages through the live binding tombstones in port
	// order.
	BindingTombstones(ctx context.Context, since time.Time, afterPort string, limit int) ([]BindingTombstone, error)
	// PurgeBindingTombstones deletes those made before the given time.
	PurgeBindingTombstones(ctx context.Context, before time.Time) (int64, error)
	// SaveStepsUnlessCancelled records a migration's steps going forward:
	// ErrCancelled when it was asked to stop.
	SaveStepsUnlessCancelled(ctx context.Context, in Intent, steps []Step) error
	// CreateMigration records a migration, its intent and its node claim.
	CreateMigration(ctx context.Context, m Migration, in Intent) error
	// GetMigration returns a migration (ErrNotFound).
	GetMigration(ctx context.Context, uuid string) (Migration, error)
	// MigrationByKey returns the live migration of an idempotency key.
	MigrationByKey(ctx context.Context, key string) (Migration, error)
	// ListMigrations lists migrations, newest first.
	ListMigrations(ctx context.Context, opts MigrationListOptions) ([]Migration, error)
	// SetMigrationStatus records a running migration's status (fenced).
	SetMigrationStatus(ctx context.Context, in Intent, status string) error
	// EndMigration ends a migration's intent and records how it ended.
	EndMigration(ctx context.Context, in Intent, end MigrationEnd) error
	// RetryMigration takes a failed migration up again with a new intent.
	RetryMigration(ctx context.Context, in Intent) error
	// RequestCancel asks a running migration to stop (ErrCommitted,
	// ErrNotFound).
	RequestCancel(ctx context.Context, uuid string, commits func([]Step) bool) error
	// CancelRequested reports whether a migration was asked to stop.
	CancelRequested(ctx context.Context, in Intent) (bool, error)
	// ClaimedNodes reports which of the nodes migrations hold.
	ClaimedNodes(ctx context.Context, nodes []string) (map[string]string, error)
	// MigrationClaims counts the nodes migrations hold.
	MigrationClaims(ctx context.Context) (int, error)
	// MigrationTombstones lists rolled-back migrations' tombstones.
	MigrationTombstones(ctx context.Context, since time.Time, limit int) ([]MigrationTombstone, error)
	// PurgeMigrationTombstones deletes those made before the given time.
	PurgeMigrationTombstones(ctx context.Context, before time.Time) (int64, error)
	// FillBackend records backend for the rows written before rows
	// recorded theirs (db sync).
	FillBackend(ctx context.Context, backend string) (int64, error)
	// BackendCounts counts each table's rows by backend ("" = not
	// filled).
	BackendCounts(ctx context.Context) (map[string]map[string]int, error)
	// Actions lists a server's finished intents (the audit trail, also of
	// a released or rolled-back server uuid), newest first.
	Actions(ctx context.Context, serverUUID string) ([]Action, error)
	// ActionByRequest returns one action of a server, or ErrNotFound.
	ActionByRequest(ctx context.Context, serverUUID, requestID string) (Action, error)
}

// Store is the persistence the API needs. Implementations are safe for
// concurrent use, also by several processes sharing one database.
type Store interface {
	// CreateServer inserts s. It is the claim on s.NodeUUID: ErrNodeTaken
	// when another server holds the node, decided by the database's unique
	// constraint, never by a read before the write; ErrServerExists when
	// s.UUID is taken. UUID and NodeUUID are required; a zero CreatedAt is
	// set to now. Times are stored in UTC at TimePrecision.
	CreateServer(ctx context.Context, s Server) error
	// UpdateServer replaces the stored server with the same UUID and sets
	// its UpdatedAt. ErrNotFound when it is gone. CreatedAt is kept as
	// stored (the result carries it); moving to a node another server
	// holds is ErrNodeTaken.
	UpdateServer(ctx context.Context, s Server) (Server, error)
	// GetServer returns one server or ErrNotFound.
	GetServer(ctx context.Context, uuid string) (Server, error)
	// ListServers returns servers in a stable order. ErrNotFound when the
	// marker names no server.
	ListServers(ctx context.Context, opts ListOptions) ([]Server, error)
	// DeleteServer removes a server. ErrNotFound when it is not there.
	DeleteServer(ctx context.Context, uuid string) error
	// ServerByNode returns the server holding a node, or ErrNotFound.
	ServerByNode(ctx context.Context, nodeUUID string) (Server, error)
	// SetServerState records the reconciler's findings on a settled
	// server (no intent in progress, not building).
	SetServerState(ctx context.Context, serverUUID, status, powerState, fault string) error

	IntentLog
	// Close releases the connections.
	Close() error
}
