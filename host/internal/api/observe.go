package api

import (
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/mogan-manage/mogan-manage/host/internal/health"
	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// unmatchedRoute is the route label of a request no route matched: a
// label per raw path would let any client grow the metrics without bound.
const unmatchedRoute = "unmatched"

// routeOf is the template of the route r matches ("/v1/servers/{uuid}"),
// or unmatchedRoute.
func (s *Server) routeOf(r *http.Request) string {
	var match mux.RouteMatch
	if !s.router.Match(r, &match) || match.Route == nil {
		return unmatchedRoute
	}
	tpl, err := match.Route.GetPathTemplate()
	if err != nil {
		return unmatchedRoute
	}
	return tpl
}

// withRequestID gives every request an X-Openstack-Request-Id, carried by
// its context to the driver plugin and the OpenStack services
// (shared/requestid); logs it once done and counts it in the metrics by
// route template and status.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestid.New()
		w.Header().Set("X-Openstack-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now()
		route := s.routeOf(r)
		next.ServeHTTP(rec, r.WithContext(requestid.With(r.Context(), id)))
		d := time.Since(start)
		status := rec.status
		if status == 0 {
			status = http.StatusOK // a handler that wrote nothing
		}
		s.metrics.HTTPRequest(route, r.Method, status, d)
		s.log.Debug("request", "request_id", id, "method", r.Method, "path", logPath(r.URL.Path), "route", route,
			"status", status, "duration", d)
	})
}

// maxLoggedPath bounds the path an access log line quotes: any route's
// real path is far shorter, and a client may send up to 1 MB of one.
const maxLoggedPath = 512

// logPath is p cut to maxLoggedPath bytes (on a character boundary).
func logPath(p string) string {
	if len(p) <= maxLoggedPath {
		return p
	}
	cut := maxLoggedPath
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + "..."
}

// startingRetryAfter is the Retry-After of a request refused while the
// repair pass runs.
const startingRetryAfter = 5

// whileStarting refuses the API's routes (503) until the start-up repair
// pass is done: an adoption must never meet a node whose interrupted
// adoption is not repaired yet. The public documents, health and metrics
// answer at once.
func (s *Server) whileStarting(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.health == nil || s.health.IsStarted() {
			next.ServeHTTP(w, r)
			return
		}
		switch r.URL.Path {
		case "/", "/v1", "/v1/", "/healthz", "/readyz", "/metrics":
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", strconv.Itoa(startingRetryAfter))
		s.writeError(w, r, errorf(http.StatusServiceUnavailable,
			"The service is starting: the repair pass of interrupted adoptions is in progress; try again shortly."))
	})
}

// readyz answers the readiness report: 200 when ready (also with Glance or
// Neutron down, which the body names), 503 when starting or a critical
// check (store, driver plugin, driver backend) is down.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	rep := health.Report{Status: health.StatusReady}
	if s.health != nil {
		rep = s.health.Check(r.Context())
	}
	status := http.StatusOK
	if !rep.Ready() {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, rep)
}
