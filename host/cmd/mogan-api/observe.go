package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/config"
	"github.com/mogan-manage/mogan-manage/host/internal/health"
	"github.com/mogan-manage/mogan-manage/host/internal/metrics"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// readinessChecks are what /readyz asks: the store, the driver plugin and
// the driver's backend decide (503 when one is down); Glance and Neutron
// are reported only, so that their outage never takes every replica out
// of a load balancer.
// readinessChecks are /readyz's: the store, and each backend's plugin
// and backend (driver.<backend>, driver_backend.<backend>) as one group:
// the replica is not ready only when every backend is down, since every
// replica sees the same backends and a load balancer could not do better.
func readinessChecks(st store.Store, backends []backend, upstreams []health.Check) []health.Check {
	checks := []health.Check{
		{Name: "store", Critical: true, Run: func(ctx context.Context) error { return store.Ping(ctx, st) }},
	}
	for _, b := range backends {
		name := b.Config.Name
		checks = append(checks,
			health.Check{Name: "driver." + name, Group: "backends", Member: name, Run: b.Manager.CheckPlugin},
			health.Check{Name: "driver_backend." + name, Group: "backends", Member: name, Run: b.Manager.CheckBackend})
	}
	return append(checks, upstreams...)
}

// runningBackends is the start-up line's list of backends: name, driver
// and its version, as each plugin said.
func runningBackends(backends []backend) string {
	parts := make([]string, len(backends))
	for i, b := range backends {
		info := b.Manager.Info()
		parts[i] = fmt.Sprintf("%s (%s %s)", b.Config.Name, info.Name, info.Version)
	}
	return strings.Join(parts, ", ")
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
