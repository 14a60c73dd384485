package manage

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/metrics"
	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/notify"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// Images is Glance as the workflow needs it.
type Images interface {
	// Existing says which of ids Glance knows, in batched requests.
	Existing(ctx context.Context, ids []string) (map[string]bool, error)
}

// Networks is Neutron as the workflow needs it.
type Networks interface {
	// Ports returns the ports among ids that exist, in batched requests.
	Ports(ctx context.Context, ids []string) (map[string]neutron.Port, error)
	// Bind sets a port's binding:host_id and binding:vnic_type.
	Bind(ctx context.Context, portID, hostID, vnicType string) (neutron.Port, error)
	// ResolveNetwork finds a network by id or unique name.
	ResolveNetwork(ctx context.Context, nameOrID string) (neutron.Network, error)
	// PortsByMAC lists the ports with a MAC; PortsByFixedIP those of a
	// network holding an IP.
	PortsByMAC(ctx context.Context, mac string) ([]neutron.Port, error)
	PortsByFixedIP(ctx context.Context, networkID, ip string) ([]neutron.Port, error)
	// CreatePort makes an unbound port; DeletePort removes one.
	CreatePort(ctx context.Context, name, networkID, mac string, fixedIPs []string) (neutron.Port, error)
	DeletePort(ctx context.Context, portID string) error
}

// Config is what the service is made of.
type Config struct {
	Store store.Store
	// Backends are the host's backends in their configured order: at
	// least one.
	Backends []Backend
	// Images is Glance, nil when [glance] is not configured: image
	// sources are then taken as they are.
	Images Images
	// Networks is Neutron, nil when [neutron] is not configured: ports are
	// neither checked nor bound, and addresses stay empty.
	Networks Networks
	// Notifier sends server.manage.* and server.unmanage.*; nil sends none.
	Notifier notify.Notifier
	// Owner names this replica in the intent log ([DEFAULT] host). It must
	// be stable across restarts, so a restarted replica repairs its own
	// intents at once, and distinct between replicas (the host lock sees
	// to it).
	Owner string
	// Epoch is this start of the replica (store.StartReplica): the
	// intents of its earlier starts are taken over at once.
	Epoch int64
	// HostLockHeld says whether this process holds the replica's host
	// lock now; while it does not (its connection is lost) no intent is
	// taken over. Nil: always (tests).
	HostLockHeld func() bool
	// Lease is how long an intent stays this replica's without renewal;
	// zero means DefaultLease.
	Lease time.Duration
	// ReconcileInterval runs the reconciler this often ([manage]
	// reconcile_interval); zero turns it off (leases are still renewed).
	ReconcileInterval time.Duration
	// RepairTimeout bounds the repair of one intent (the start-up pass
	// runs them concurrently, before the API listens); zero means
	// DefaultRepairTimeout.
	RepairTimeout time.Duration
	// TombstoneRetention is how long a rolled-back server uuid is watched
	// for a late association; zero means DefaultTombstoneRetention.
	TombstoneRetention time.Duration
	Logger             hclog.Logger
	// Metrics counts adoptions and recoveries by outcome; nil counts
	// nothing.
	Metrics *metrics.Metrics

	// Migration is the [migration] section.
	Migration MigrationConfig

	// stepHook, when set (tests only), runs after each step of an
	// adoption has acted; an error it returns fails the adoption there.
	stepHook func(ctx context.Context, step string) error
}

// Defaults of Config.
const (
	DefaultLease              = 60 * time.Second
	DefaultTombstoneRetention = time.Hour
	DefaultRepairTimeout      = 2 * time.Minute
)

// Service is the application layer; see the package comment.
type Service struct {
	store     store.Store
	backends  backendSet
	images    Images
	networks  Networks
	notifier  notify.Notifier
	owner     string
	epoch     int64
	working   inflight
	lockHeld  func() bool
	steps     stepKinds
	migSteps  migrationKinds
	migration MigrationConfig
	runner    *migrationRunner
	lease     time.Duration
	interval  time.Duration
	retention time.Duration
	repairFor time.Duration
	log       hclog.Logger
	metrics   *metrics.Metrics
	now       func() time.Time
	stepHook  func(ctx context.Context, step string) error
}

// New returns the service.
func New(cfg Config) *Service {
	s := &Service{
		store: cfg.Store, backends: newBackendSet(cfg.Backends), images: cfg.Images, networks: cfg.Networks,
		notifier: cfg.Notifier, owner: cfg.Owner, epoch: cfg.Epoch, lockHeld: cfg.HostLockHeld, steps: declareSteps(),
		lease: cfg.Lease, interval: cfg.ReconcileInterval,
		retention: cfg.TombstoneRetention, repairFor: cfg.RepairTimeout, log: cfg.Logger, metrics: cfg.Metrics, now: time.Now, stepHook: cfg.stepHook,
	}
	if s.log == nil {
		s.log = hclog.NewNullLogger()
	}
	s.log = s.log.Named("manage")
	if s.notifier == nil {
		s.notifier = nopNotifier{}
	}
	if s.lease <= 0 {
		s.lease = DefaultLease
	}
	if s.repairFor <= 0 {
		s.repairFor = DefaultRepairTimeout
	}
	if s.retention <= 0 {
		s.retention = DefaultTombstoneRetention
	}
	if s.owner == "" {
		s.owner = "mogan-api"
	}
	if s.lockHeld == nil {
		s.lockHeld = func() bool { return true }
	}
	s.migSteps = s.steps.migration
	s.migration = cfg.Migration
	if s.migration.MaxConcurrent <= 0 {
		s.migration.MaxConcurrent = DefaultMigrationConcurrency
	}
	if s.migration.EnrollTimeout <= 0 {
		s.migration.EnrollTimeout = DefaultEnrollTimeout
	}
	s.runner = newMigrationRunner(s.migration.MaxConcurrent, s.runMigration)
	return s
}

// leaseUntil is when an intent taken or renewed now stops being ours.
func (s *Service) leaseUntil() time.Time { return s.now().Add(s.lease) }

type nopNotifier struct{}

func (nopNotifier) Notify(context.Context, notify.Notification) {}
func (nopNotifier) Close(context.Context) error                 { return nil }
func (nopNotifier) Dropped() uint64                             { return 0 }
