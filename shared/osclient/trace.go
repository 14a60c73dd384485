package osclient

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// Observer is told of every HTTP request a client made: the service
// ("glance", "keystone" for the authentication in front of it), the
// status code (0 when no answer came) and how long it took. The host
// counts them in its metrics.
type Observer func(service string, code int, d time.Duration)

// Traced wraps next so that each request carries the request id of its
// context (requestid.From) to the service as OpenStack's global request
// id, X-OpenStack-Request-ID: oslo.middleware records it, and the
// service's log lines show it as global_request_id. Each answer is logged
// at debug level with the service's own id (its x-openstack-request-id
// response header, Ironic's openstack-request-id) beside ours, and told to observe. service names the
// service in log lines and to observe; a request to identity's host is
// Keystone's. log and observe may be nil.
func Traced(next http.RoundTripper, service, identity string, log hclog.Logger, observe Observer) http.RoundTripper {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	t := &tracer{next: next, service: strings.ToLower(service), log: log, observe: observe}
	if u, err := url.Parse(identity); err == nil {
		t.identityHost = u.Host
	}
	return t
}

type tracer struct {
	next         http.RoundTripper
	service      string
	identityHost string
	log          hclog.Logger
	observe      Observer
}

func (t *tracer) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	id := requestid.From(ctx)
	if id != "" && req.Header.Get(requestid.Header) == "" {
		// A RoundTripper must not change the caller's request.
		req = req.Clone(ctx)
		req.Header.Set(requestid.Header, id)
	}
	service := t.service
	if t.identityHost != "" && req.URL.Host == t.identityHost {
		service = "keystone"
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	d := time.Since(start)
	log := requestid.Logger(ctx, t.log)
	code := 0
	if err != nil {
		log.Debug("upstream request failed", "service", service, "method", req.Method, "path", req.URL.Path,
			"error", RedactText(err.Error()), "duration", d.String())
	} else {
		code = resp.StatusCode
		log.Debug("upstream request", "service", service, "method", req.Method, "path", req.URL.Path,
			"status", code, "upstream_request_id", upstreamID(resp.Header), "duration", d.String())
	}
	if t.observe != nil {
		t.observe(service, code, d)
	}
	return resp, err
}

// upstreamID is the service's own id for a request: oslo's middleware
// answers X-OpenStack-Request-ID, Ironic's API Openstack-Request-Id.
func upstreamID(h http.Header) string {
	if id := h.Get(requestid.Header); id != "" {
		return id
	}
	return h.Get("Openstack-Request-Id")
}
