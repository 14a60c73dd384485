package main

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/config"
	"github.com/mogan-manage/mogan-manage/host/internal/glance"
	"github.com/mogan-manage/mogan-manage/host/internal/health"
	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/host/internal/metrics"
	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/notify"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// notifierFlush bounds how long stopping waits for queued notifications.
const notifierFlush = 5 * time.Second

// newService builds the application layer from the configuration: the
// Glance and Neutron clients when their sections are configured, the
// notifier. The returned func flushes and stops what it started.
func newService(ctx context.Context, cfg *config.Config, st store.Store, backends []manage.Backend, log hclog.Logger, rep replica) (*manage.Service, func(), error) {
	svc, _, stop, err := newObservedService(ctx, cfg, st, backends, log, nil, rep)
	return svc, stop, err
}

// managedBackends are the backends' supervised plugins as the
// application layer sees them, in their configured order.
func managedBackends(backends []backend) []manage.Backend {
	out := make([]manage.Backend, len(backends))
	for i, b := range backends {
		out[i] = manage.Backend{Name: b.Config.Name, Driver: b.Manager.Driver(), Check: b.Manager.CheckBackend}
	}
	return out
}

// newObservedService is newService counting in mtr (nil: nowhere); it
// also returns the readiness checks of Glance and Neutron when configured.
func newObservedService(ctx context.Context, cfg *config.Config, st store.Store, backends []manage.Backend, log hclog.Logger,
	mtr *metrics.Metrics, rep replica,
) (*manage.Service, []health.Check, func(), error) {
	var upstreams []health.Check
	mc := manage.Config{
		Store:             st,
		Backends:          backends,
		Owner:             cfg.Host,
		Epoch:             rep.epoch,
		HostLockHeld:      rep.held,
		ReconcileInterval: cfg.Manage.ReconcileInterval,
		Lease:             cfg.Manage.IntentLease,
		Migration:         manage.MigrationConfig{MaxConcurrent: cfg.Migration.MaxConcurrent, EnrollTimeout: cfg.Migration.EnrollTimeout},
		// A repair reads the node, re-binds or restores each port and
		// may release the node: a few calls, each within call_timeout.
		RepairTimeout: 4 * cfg.Driver.CallTimeout,
		Logger:        log,
		Metrics:       mtr,
	}
	var observe osclient.Observer
	if mtr != nil {
		observe = mtr.UpstreamRequest
	}
	if cfg.Glance.Configured {
		g, err := glance.New(ctx, cfg.Glance.Options, log, observe)
		if err != nil {
			return nil, nil, nil, err
		}
		mc.Images = g
		upstreams = append(upstreams, health.Check{Name: "glance", Run: g.Check})
	} else {
		log.Info("[glance] is not configured: image sources are taken as they are, unchecked")
	}
	if cfg.Neutron.Configured {
		n, err := neutron.New(ctx, cfg.Neutron.Options, log, observe)
		if err != nil {
			return nil, nil, nil, err
		}
		mc.Networks = n
		upstreams = append(upstreams, health.Check{Name: "neutron", Run: n.Check})
	} else {
		log.Info("[neutron] is not configured: ports are neither checked nor bound, and addresses stay empty")
	}
	n, err := notify.New(ctx, notify.Config{
		Driver:          cfg.Notifier.Driver,
		TransportURL:    cfg.TransportURL,
		ControlExchange: cfg.ControlExchange,
		PublisherID:     "mogan-api:" + cfg.Host,
		Logger:          log.Named("notify"),
	})
	if err != nil {
		return nil, nil, nil, err
	}
	mc.Notifier = n
	mtr.RegisterCounterFunc("notifications_dropped_total",
		"Notifications dropped: the bounded buffer was full (a slow or dead broker) or sending failed for good.",
		func() float64 { return float64(n.Dropped()) })
	stop := func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifierFlush)
		defer cancel()
		if err := n.Close(fctx); err != nil {
			log.Warn("stopping the notifier", "error", err)
		}
	}
	return manage.New(mc), upstreams, stop, nil
}
