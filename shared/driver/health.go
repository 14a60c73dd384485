package driver

import "context"

// BackendChecker tells whether the driver's own backend (Ironic) answers,
// for the host's readiness check (/readyz). It is optional: without it
// the host reads the backend as unknown and counts it as up.
type BackendChecker interface {
	// CheckBackend returns what it checked, for a human ("Ironic at
	// http://ironic:6385"), and nil when the backend answers, or an
	// Unavailable error naming it. It must be cheap (one small request):
	// load balancers ask every few seconds.
	CheckBackend(ctx context.Context) (backend string, err error)
}
