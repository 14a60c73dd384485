package ironic

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"sync"

	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

// Recorder is a proxy in front of Ironic that records every request sent
// through it: point a driver's url at Recorder.URL to see what it asks of
// Ironic. It is the conformance kit's Observer (drivertest.Observer) and
// knows which of Ironic's requests touch a machine.
type Recorder struct {
	// URL is the proxy's endpoint, to use in place of Server.URL.
	URL string

	srv  *http.Server
	mu   sync.Mutex
	reqs []drivertest.BackendRequest
	next int // Requests returns reqs[next:]
}

var _ drivertest.Observer = (*Recorder)(nil)

// Recorder starts a recording proxy in front of s on a free loopback
// port; Close stops it.
func (s *Server) Recorder() (*Recorder, error) {
	target, err := url.Parse(s.URL)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Recorder{URL: "http://" + l.Addr().String()}
	proxy := httputil.NewSingleHostReverseProxy(target)
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body []byte
		if req.Body != nil {
			body, _ = io.ReadAll(req.Body)
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, drivertest.BackendRequest{Method: req.Method, Path: req.URL.Path, Body: body})
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	})}
	go func() {
		if err := r.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return r, nil
}

// Close stops the proxy.
func (r *Recorder) Close() error { return r.srv.Close() }

// Requests returns the requests recorded since the previous call.
func (r *Recorder) Requests() []drivertest.BackendRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.reqs[r.next:])
	r.next = len(r.reqs)
	return out
}

// All returns every request recorded.
func (r *Recorder) All() []drivertest.BackendRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// The provision targets that never touch a machine: manage checks that
// its BMC answers (reading the power state), adopt takes it as it runs.
// Every other target cleans, deploys, rebuilds, undeploys, rescues,
// inspects or services it.
var harmlessTargets = []string{"manage", "adopt"}

// What a driver may send to a node's own paths beyond reading it: its
// traits, its maintenance flag, and a provision state change to a
// harmless target (checked apart).
var (
	nodeSubpath   = regexp.MustCompile(`^/v1/nodes/[^/]+/(.+)$`)
	allowedWrites = []string{"traits", "maintenance", "states/provision"}
)

// Forbidden says how a request touches the machine, or "" when it does
// not: any provision target but manage and adopt (provide, deploy,
// rebuild, deleted, undeploy, clean, rescue, inspect, …), and any write to
// a node's sub-resources but its traits and maintenance — its power
// (states/power), boot device, boot mode, RAID, BIOS, firmware, virtual
// media, vendor passthru, console, NMI, VIF attachment.
func (r *Recorder) Forbidden(req drivertest.BackendRequest) string {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return ""
	}
	m := nodeSubpath.FindStringSubmatch(req.Path)
	if m == nil {
		return "" // a node, port or portgroup itself: create, update, delete
	}
	if !slices.Contains(allowedWrites, m[1]) {
		return "it acts on the machine through Ironic's " + m[1]
	}
	if m[1] == "states/provision" {
		var body struct {
			Target string `json:"target"`
		}
		_ = json.Unmarshal(req.Body, &body)
		if !slices.Contains(harmlessTargets, body.Target) {
			return "provision target " + body.Target + " acts on the machine (only manage and adopt do not)"
		}
	}
	return ""
}

// Transition reports a provision-state change request.
func (r *Recorder) Transition(req drivertest.BackendRequest) bool {
	m := nodeSubpath.FindStringSubmatch(req.Path)
	return req.Method == http.MethodPut && m != nil && m[1] == "states/provision"
}
