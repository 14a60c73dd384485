package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/api"
	"github.com/mogan-manage/mogan-manage/host/internal/auth"
	"github.com/mogan-manage/mogan-manage/host/internal/config"
	"github.com/mogan-manage/mogan-manage/host/internal/health"
	"github.com/mogan-manage/mogan-manage/host/internal/httpconn"
	"github.com/mogan-manage/mogan-manage/host/internal/metrics"
	"github.com/mogan-manage/mogan-manage/host/internal/policy"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// shutdownGrace is how long in-flight requests get after SIGTERM.
const shutdownGrace = 30 * time.Second

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := loadConfig("mogan-api", args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	if cfg.AuthStrategy == "noauth" && !cfg.ListensOnLoopback() {
		log.Warn("auth_strategy is noauth and the API listens on a non-loopback address: anyone who can reach it is admin",
			"address", cfg.API.Addr())
	}
	if cfg.API.PublicEndpoint == "" && !cfg.ListensOnLoopback() {
		log.Warn("[api] public_endpoint is not set and the API listens on a non-loopback address: links and Location "+
			"headers use the Host each client sends; set public_endpoint to the URL clients should use",
			"address", cfg.API.Addr())
	}

	st, err := store.OpenWithOptions(ctx, cfg.Database.Connection, log.Named("store"),
		store.OpenOptions{CreateIfMissing: strings.HasPrefix(cfg.Database.Connection, "sqlite:")})
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	if err := checkRecordedBackends(ctx, cfg, st, log); err != nil {
		return err
	}
	rep, err := startReplica(ctx, cfg, st, log, false)
	if err != nil {
		return err
	}
	defer func() { _ = rep.lock.Close() }()

	// One registry for this process, handed to whoever counts.
	mtr := metrics.New()
	authCfg := authConfig(cfg)
	authCfg.Keystone.Observe = mtr.UpstreamRequest
	authn, err := auth.New(ctx, authCfg, log.Named("auth"))
	if err != nil {
		return err
	}
	enforcer, err := policy.New(cfg.Policy.PolicyFile)
	if err != nil {
		return err
	}

	backends, err := newBackends(cfg, log, mtr)
	if err != nil {
		return err
	}
	if err := startBackends(ctx, cfg, backends); err != nil {
		return err
	}
	defer stopBackends(backends)
	// The first backend only, until the service takes every backend.
	svc, upstreams, closeService, err := newObservedService(ctx, cfg, st, managedBackends(backends), log, mtr, rep)
	if err != nil {
		return err
	}
	defer closeService()
	ready := health.New(0, readinessChecks(st, backends, upstreams)...)

	handler, err := api.New(api.Config{
		Logger:         log.Named("api"),
		Auth:           authn,
		Policy:         enforcer,
		Manage:         svc,
		PublicEndpoint: cfg.API.PublicEndpoint,
		MetadataItems:  cfg.Quota.MetadataItems,
		Metrics:        mtr,
		ServeMetrics:   cfg.API.MetricsEnabled && cfg.API.MetricsAddr() == "",
		Health:         ready,
	})
	if err != nil {
		return err
	}

	listener, err := net.Listen("tcp", cfg.API.Addr())
	if err != nil {
		return fmt.Errorf("listening on [api] host_ip:port %s: %w", cfg.API.Addr(), err)
	}
	// client_socket_timeout closes idle and stalled clients (never slow
	// readers); max_connections bounds the file descriptors clients hold.
	conns := httpconn.Options{
		ClientSocketTimeout: cfg.ClientSocketTimeout,
		MaxConnections:      cfg.API.MaxConnections,
		Logger:              log.Named("http"),
	}
	listener = httpconn.Listen(listener, conns)
	srv := httpconn.NewServer(handler, conns)
	srv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	log.Info("serving", "address", listener.Addr().String(), "backends", runningBackends(backends),
		"auth_strategy", cfg.AuthStrategy, "client_socket_timeout", cfg.ClientSocketTimeout,
		"max_connections", cfg.API.MaxConnections, "metrics", metricsWhere(cfg))

	served := make(chan error, 2)
	go func() { served <- srv.Serve(listener) }()
	defer shutdown(ctx, srv, log)
	if addr := cfg.API.MetricsAddr(); addr != "" {
		msrv, err := serveMetrics(ctx, addr, mtr, served)
		if err != nil {
			return err
		}
		defer shutdown(ctx, msrv, log)
	}

	// The listener is open for /healthz, /readyz and /metrics while the
	// repair pass runs; the API's routes answer 503 until it is done, so
	// that every adoption a previous process left unfinished is completed
	// or rolled back first. This replica's leases are renewed from now
	// on, so that a long pass does not look dead to the other replicas.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go svc.KeepLeases(runCtx)
	// Migrations run in the background; the repair pass resumes those a
	// previous process left. On shutdown they stop between steps and the
	// next start (or another replica) carries them on.
	waitMigrations := svc.StartMigrations(runCtx)
	defer func() { stopRun(); waitMigrations() }()
	repaired, err := svc.Recover(ctx)
	if err != nil {
		return fmt.Errorf("repair pass at start: %w", err)
	}
	log.Info("repair pass done", "completed", repaired.Completed, "rolled_back", repaired.RolledBack,
		"released", repaired.Released, "left_to_reconciler", repaired.Left)
	ready.Started()
	go svc.Run(runCtx)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	return nil
}

// shutdown stops srv, giving in-flight requests shutdownGrace.
func shutdown(ctx context.Context, srv *http.Server, log hclog.Logger) {
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("stopping the HTTP server", "error", err)
	}
}

func authConfig(cfg *config.Config) auth.Config {
	k := cfg.Keystone
	return auth.Config{
		Strategy:          cfg.AuthStrategy,
		HTTPBasicUserFile: cfg.HTTPBasicAuthUserFile,
		Keystone: auth.KeystoneConfig{
			AuthType:           k.AuthType,
			AuthURL:            k.AuthURL,
			WWWAuthenticateURI: k.WWWAuthenticateURI,
			Username:           k.Username,
			Password:           k.Password,
			ProjectName:        k.ProjectName,
			UserDomainName:     k.UserDomainName,
			UserDomainID:       k.UserDomainID,
			ProjectDomainName:  k.ProjectDomainName,
			ProjectDomainID:    k.ProjectDomainID,
			CAFile:             k.CAFile,
			Insecure:           k.Insecure,
			CacheTTL:           k.TokenCacheTime,
			Timeout:            k.Timeout,
		},
	}
}
