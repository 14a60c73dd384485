package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every metric of the host.
const namespace = "mogan"

// Metrics is the host's metrics. Its methods are safe for concurrent use
// and do nothing on a nil *Metrics.
type Metrics struct {
	registry *prometheus.Registry

	httpRequests     *prometheus.CounterVec
	httpDuration     *prometheus.HistogramVec
	driverCalls      *prometheus.CounterVec
	driverDuration   *prometheus.HistogramVec
	pluginRestarts   *prometheus.CounterVec
	upstreamCalls    *prometheus.CounterVec
	upstreamDuration *prometheus.HistogramVec
	adoptions        *prometheus.CounterVec
	recoveries       *prometheus.CounterVec
	migrations       *prometheus.CounterVec
	migrationSteps   *prometheus.HistogramVec
}

// New makes the metrics and their registry, with the Go runtime and
// process collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		registry: r,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests answered, by route template (never the raw path), method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its answer (a listing's whole stream), by route template and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		driverCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "driver_calls_total",
			Help: "Calls to a backend's driver plugin, by backend, RPC and outcome (ok, or the kind of error: not_found, conflict, not_manageable, invalid, not_implemented, unavailable, timeout, canceled, error).",
		}, []string{"backend", "rpc", "outcome"}),
		driverDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "driver_call_duration_seconds",
			Help:    "Duration of driver plugin calls, by backend and RPC (a listing's whole stream).",
			Buckets: prometheus.DefBuckets,
		}, []string{"backend", "rpc"}),
		pluginRestarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "driver_plugin_restarts_total",
			Help: "Restarts of a dead or hung driver plugin, by backend and result (started, failed).",
		}, []string{"backend", "result"}),
		upstreamCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "upstream_requests_total",
			Help: "HTTP requests the host made to OpenStack services, by service (glance, neutron, keystone) and status code (\"error\" when no answer came).",
		}, []string{"service", "code"}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "upstream_request_duration_seconds",
			Help:    "Duration of the host's requests to OpenStack services, by service.",
			Buckets: prometheus.DefBuckets,
		}, []string{"service"}),
		adoptions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "adoptions_total",
			Help: "Adoptions (POST /v1/manageable_servers) that reached the workflow, by backend (\"\" when none was found) and outcome (adopted, refused: a 4xx before anything changed, failed: rolled back or left to the reconciler).",
		}, []string{"backend", "outcome"}),
		recoveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "recoveries_total",
			Help: "Interrupted adoptions and releases recovered (the start-up repair pass and the reconciler), by backend and outcome (completed, rolled_back, released, resumed: a migration carries on, left).",
		}, []string{"backend", "outcome"}),
	}
	m.migrations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "migrations_total",
		Help: "Migrations that ended, by outcome (done, failed: its adoption failed and it can be retried, rolled_back: undone, the machine as it was).",
	}, []string{"outcome"})
	m.migrationSteps = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "migration_step_duration_seconds",
		Help:    "Duration of migrations' steps that finished, by step (neutron_port, hold_source, enroll, release_source, adopt).",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800},
	}, []string{"step"})
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.driverCalls, m.driverDuration, m.pluginRestarts,
		m.upstreamCalls, m.upstreamDuration, m.adoptions, m.recoveries, m.migrations, m.migrationSteps,
	)
	return m
}

// Handler serves the registry in Prometheus' exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Registry is where more collectors go (the notifier's drop count).
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// RegisterCounterFunc registers a counter read from f at each scrape, for a
// count a package keeps itself.
func (m *Metrics) RegisterCounterFunc(name, help string, f func() float64) {
	if m == nil {
		return
	}
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace, Name: name, Help: help,
	}, f))
}

// HTTPRequest records one answered request. route is the matched route's
// template ("/v1/servers/{uuid}"), or "unmatched".
func (m *Metrics) HTTPRequest(route, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	method = boundedMethod(method)
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

// DriverCall records one call to a backend's driver and its outcome
// (Outcome).
func (m *Metrics) DriverCall(backend, rpc string, err error, d time.Duration) {
	if m == nil {
		return
	}
	m.driverCalls.WithLabelValues(backend, rpc, Outcome(err)).Inc()
	m.driverDuration.WithLabelValues(backend, rpc).Observe(d.Seconds())
}

// PluginRestart records a restart of a backend's driver plugin; err is
// why it failed, nil when it started.
func (m *Metrics) PluginRestart(backend string, err error) {
	if m == nil {
		return
	}
	result := "started"
	if err != nil {
		result = "failed"
	}
	m.pluginRestarts.WithLabelValues(backend, result).Inc()
}

// UpstreamRequest records one HTTP request to an OpenStack service; code
// is 0 when no answer came.
func (m *Metrics) UpstreamRequest(service string, code int, d time.Duration) {
	if m == nil {
		return
	}
	c := "error"
	if code > 0 {
		c = strconv.Itoa(code)
	}
	m.upstreamCalls.WithLabelValues(service, c).Inc()
	m.upstreamDuration.WithLabelValues(service).Observe(d.Seconds())
}

// Adoption outcomes.
const (
	AdoptionAdopted = "adopted"
	AdoptionRefused = "refused"
	AdoptionFailed  = "failed"
)

// Adoption records the outcome of one adoption on a backend.
func (m *Metrics) Adoption(backend, outcome string) {
	if m == nil {
		return
	}
	m.adoptions.WithLabelValues(backend, outcome).Inc()
}

// Recovery outcomes: an interrupted adoption completed or rolled back, an
// interrupted release finished, or left to the next reconciliation.
const (
	RecoveryCompleted  = "completed"
	RecoveryRolledBack = "rolled_back"
	RecoveryReleased   = "released"
	RecoveryResumed    = "resumed"
	RecoveryLeft       = "left"
)

// Recoveries adds n recoveries on a backend with outcome.
func (m *Metrics) Recoveries(backend, outcome string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.recoveries.WithLabelValues(backend, outcome).Add(float64(n))
}

// Migration records a migration's end (done, failed, rolled_back).
func (m *Metrics) Migration(outcome string) {
	if m == nil {
		return
	}
	m.migrations.WithLabelValues(outcome).Inc()
}

// MigrationStep records how long a migration's step took.
func (m *Metrics) MigrationStep(step string, d time.Duration) {
	if m == nil {
		return
	}
	m.migrationSteps.WithLabelValues(step).Observe(d.Seconds())
}

// boundedMethod keeps the method label to a known set: a client may send
// any token as a method, and each would be a new series.
func boundedMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return method
	}
	return "OTHER"
}
