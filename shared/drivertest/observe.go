package drivertest

// BackendRequest is one request a driver made to its backend, as an
// Observer saw it.
type BackendRequest struct {
	Method string
	// Path is the request's path, without its query.
	Path string
	Body []byte
}

// String is the request as a log line shows it: method and path.
func (r BackendRequest) String() string { return r.Method + " " + r.Path }

// Observer sees the requests a driver under test makes to its backend —
// for Ironic, a recording proxy the driver's options point at
// (testenv/ironic's Recorder) — and knows what they do there. With
// Config.Observer the kit asserts that no request of the whole run is
// forbidden (DESIGN, "Migration": no verb that cleans, deploys, rebuilds,
// undeploys or rescues a machine, no power or boot-device change), and
// that each EnrollNode call makes at most one transition.
type Observer interface {
	// Requests returns the requests made since the previous call of
	// Requests, in order.
	Requests() []BackendRequest
	// Forbidden says how a request touches the machine itself, or ""
	// when it does not.
	Forbidden(BackendRequest) string
	// Transition reports whether a request moves a node from one state
	// to another (Ironic: a provision-state change).
	Transition(BackendRequest) bool
}
