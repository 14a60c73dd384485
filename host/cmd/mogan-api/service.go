package main

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/config"
	"github.com/mogan-manage/mogan-manage/host/internal/glance"
	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/notify"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// notifierFlush bounds how long stopping waits for queued notifications.
const notifierFlush = 5 * time.Second

// newService builds the application layer from the configuration: the
// Glance and Neutron clients when their sections are configured, the
// notifier. The returned func flushes and stops what it started.
func newService(ctx context.Context, cfg *config.Config, st store.Store, drv driver.Full, log hclog.Logger) (*manage.Service, func(), error) {
	mc := manage.Config{
		Store:             st,
		Driver:            drv,
		Owner:             cfg.Host,
		ReconcileInterval: cfg.Manage.ReconcileInterval,
		Lease:             cfg.Manage.IntentLease,
		// A repair reads the node, re-binds or restores each port and
		// may release the node: a few calls, each within call_timeout.
		RepairTimeout: 4 * cfg.Driver.CallTimeout,
		Logger:        log,
	}
	if cfg.Glance.Configured {
		g, err := glance.New(ctx, cfg.Glance.Options, log)
		if err != nil {
			return nil, nil, err
		}
		mc.Images = g
	} else {
		log.Info("[glance] is not configured: image sources are taken as they are, unchecked")
	}
	if cfg.Neutron.Configured {
		n, err := neutron.New(ctx, cfg.Neutron.Options, log)
		if err != nil {
			return nil, nil, err
		}
		mc.Networks = n
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
		return nil, nil, err
	}
	mc.Notifier = n
	stop := func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifierFlush)
		defer cancel()
		if err := n.Close(fctx); err != nil {
			log.Warn("stopping the notifier", "error", err)
		}
	}
	return manage.New(mc), stop, nil
}
