package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/config"
	"github.com/mogan-manage/mogan-manage/host/internal/health"
	"github.com/mogan-manage/mogan-manage/host/internal/metrics"
	"github.com/mogan-manage/mogan-manage/host/internal/pluginmanager"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// readinessChecks are what /readyz asks: the store, the driver plugin and
// the driver's backend decide (503 when one is down); Glance and Neutron
// are reported only, so that their outage never takes every replica out
// of a load balancer.
func readinessChecks(st store.Store, plugins *pluginmanager.Manager, upstreams []health.Check) []health.Check {
	checks := []health.Check{
		{Name: "store", Critical: true, Run: func(ctx context.Context) error { return store.Ping(ctx, st) }},
		{Name: "driver", Critical: true, Run: plugins.CheckPlugin},
		{Name: "driver_backend", Critical: true, Run: plugins.CheckBackend},
	}
	return append(checks, upstreams...)
}

// metricsWhere says where /metrics is served, for the start-up log line.
func metricsWhere(cfg *config.Config) string {
	switch {
	case !cfg.API.MetricsEnabled:
		return "off"
	case cfg.API.MetricsAddr() != "":
		return cfg.API.MetricsAddr()
	}
	return "the API's port"
}

// metricsHeaderTimeout bounds the request header of a scrape.
const metricsHeaderTimeout = 10 * time.Second

// serveMetrics serves /metrics alone on addr ([api] metrics_host_ip,
// metrics_port); Serve's end goes to served.
func serveMetrics(ctx context.Context, addr string, mtr *metrics.Metrics, served chan<- error) (*http.Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on [api] metrics_host_ip:metrics_port %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", mtr.Handler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: metricsHeaderTimeout,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	go func() { served <- srv.Serve(l) }()
	return srv, nil
}
