package api

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
	"github.com/mogan-manage/mogan-manage/host/internal/health"
	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/host/internal/metrics"
	"github.com/mogan-manage/mogan-manage/host/internal/policy"
	"github.com/mogan-manage/mogan-manage/host/internal/schema"
)

// maxBodyBytes caps every request body (413 beyond).
const maxBodyBytes = 1 << 20

// Config is what the API needs from the rest of the host.
type Config struct {
	Logger hclog.Logger
	Auth   auth.Authenticator
	Policy *policy.Enforcer
	// Manage is the application layer every route but the public ones
	// calls.
	Manage *manage.Service
	// PublicEndpoint is the base of links ("http://api.example:6688");
	// empty means the scheme and host the request came with.
	PublicEndpoint string
	// MetadataItems is [quota] metadata_items: how many metadata items a
	// server may have; -1 (any negative) is unlimited, 0 (the zero
	// value) none.
	MetadataItems int
	// Metrics counts requests by route template and status; nil counts
	// nothing.
	Metrics *metrics.Metrics
	// ServeMetrics serves /metrics (Metrics' registry) on this handler,
	// outside auth: [api] metrics_enabled without a metrics_port of its
	// own.
	ServeMetrics bool
	// Health decides /readyz and, until its Started, refuses the API's
	// routes (503) while the start-up repair pass runs; nil is always
	// ready.
	Health *health.Checker
}

// Server is the HTTP API.
type Server struct {
	log            hclog.Logger
	auth           auth.Authenticator
	policy         *policy.Enforcer
	manage         *manage.Service
	manageBody     bodyRules
	migrationBody  bodyRules
	publicEndpoint string
	metadataItems  int
	metrics        *metrics.Metrics
	health         *health.Checker
	router         *mux.Router
}

// New builds the API's handler.
func New(cfg Config) (*Server, error) {
	manageSchema, err := schema.ManageServer()
	if err != nil {
		return nil, err
	}
	migrationSchema, err := schema.Migration()
	if err != nil {
		return nil, err
	}
	s := &Server{
		log:            cfg.Logger,
		auth:           cfg.Auth,
		policy:         cfg.Policy,
		manage:         cfg.Manage,
		manageBody:     bodyRules{schema: manageSchema, metadata: []string{"metadata"}},
		migrationBody:  bodyRules{schema: migrationSchema, metadata: []string{"server", "metadata"}},
		publicEndpoint: cfg.PublicEndpoint,
		metadataItems:  cfg.MetadataItems,
		metrics:        cfg.Metrics,
		health:         cfg.Health,
	}
	s.routes()
	if cfg.ServeMetrics && cfg.Metrics != nil {
		// GET and HEAD, as the public routes and the metrics listener of
		// its own ("GET /metrics" in a ServeMux also matches HEAD).
		s.router.Handle("/metrics", s.takesParams(nil, cfg.Metrics.Handler())).Methods(http.MethodGet, http.MethodHead)
	}
	return s, nil
}

func (s *Server) routes() {
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errorf(http.StatusNotFound, "The resource could not be found."))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A 405 names the methods the resource has (RFC 9110 15.5.6).
		w.Header().Set("Allow", strings.Join(s.allowed(r), ", "))
		path, cut := clip(r.URL.Path) // a 1 MB path does not come back whole
		if cut {
			path += "..."
		}
		s.writeError(w, r, errorf(http.StatusMethodNotAllowed, "Method %s is not allowed on %s.", r.Method, path))
	})

	// Public: version documents, liveness and readiness. HEAD too: load
	// balancers probe with it (HAProxy's "option httpchk HEAD"), and
	// net/http drops the body.
	public := func(path string, h http.HandlerFunc) {
		r.Handle(path, s.takesParams(nil, h)).Methods(http.MethodGet, http.MethodHead)
	}
	public("/", s.rootVersions)
	public("/v1", s.v1Version)
	public("/v1/", s.v1Version)
	public("/healthz", s.healthz)
	public("/readyz", s.readyz)

	// Everything else needs a caller. (Not a subrouter: gorilla/mux
	// answers 404 instead of 405 for a method a subrouter lacks.) Each
	// route names the query parameters it takes: any other is a 400
	// (takesParams), checked once the caller is known. Upstream's servers
	// routes take fields (get_all and get_one, not detail), limit, marker,
	// sort_key, sort_dir and all_tenants; their filters (name, status,
	// flavor_uuid, …) are not served here, so they are refused rather
	// than ignored.
	private := func(path string, h http.HandlerFunc, method string, params ...string) {
		r.Handle(path, s.authenticate(s.takesParams(params, h))).Methods(method)
	}
	private("/v1/manageable_servers", s.listManageableServers, http.MethodGet, "limit", "marker", "resource_class", "all", "backend")
	private("/v1/backends", s.listBackends, http.MethodGet)
	private("/v1/manageable_servers", s.manageServer, http.MethodPost, "dry_run")
	private("/v1/servers", s.listServers, http.MethodGet, "all_tenants", "limit", "marker", "sort_key", "sort_dir", "fields")
	private("/v1/servers/detail", s.listServersDetail, http.MethodGet, "all_tenants", "limit", "marker", "sort_key", "sort_dir")
	private("/v1/servers/{uuid}", s.showServer, http.MethodGet, "fields")
	private("/v1/servers/{uuid}/unmanage", s.unmanageServer, http.MethodPost)
	private("/v1/servers/{uuid}/actions", s.listServerActions, http.MethodGet)
	private("/v1/servers/{uuid}/actions/{request_id}", s.showServerAction, http.MethodGet)
	// Migrations (DESIGN, "Migration"). The export before {uuid}, which
	// would take "export" for a uuid.
	private("/v1/migrations", s.createMigration, http.MethodPost, "dry_run")
	private("/v1/migrations", s.listMigrations, http.MethodGet, "status", "limit", "marker")
	private("/v1/migrations/export", s.exportMachine, http.MethodGet, "backend", "node_uuid")
	private("/v1/migrations/{uuid}", s.showMigration, http.MethodGet)
	private("/v1/migrations/{uuid}", s.cancelMigration, http.MethodDelete)
	private("/v1/migrations/{uuid}/retry", s.retryMigration, http.MethodPost)
	s.router = r
}

// allowed lists the methods a route has for r's path.
func (s *Server) allowed(r *http.Request) []string {
	var methods []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		var match mux.RouteMatch
		if s.router.Match(probe, &match) && match.MatchErr == nil {
			methods = append(methods, m)
		}
	}
	return methods
}

// ServeHTTP runs the middleware every request goes through, then the
// router.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.withRequestID(s.recoverPanics(s.whileStarting(s.limitBody(s.router)))).ServeHTTP(w, r)
}
