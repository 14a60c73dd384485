package manage

import (
	"errors"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/metrics"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// The kinds of failure the API maps to HTTP statuses, tested with
// errors.Is. The driver's kinds are the SDK's own values, so a driver's
// typed error passes through the plugin boundary and this package
// unchanged.
var (
	ErrNotImplemented  = driver.ErrNotImplemented  // 501
	ErrNodeNotFound    = driver.ErrNodeNotFound    // 404
	ErrNotManageable   = driver.ErrNotManageable   // 409
	ErrConflict        = driver.ErrConflict        // 409
	ErrUnavailable     = driver.ErrUnavailable     // 503: the driver, its backend, Glance or Neutron
	ErrInvalidArgument = driver.ErrInvalidArgument // 400

	// ErrServerNotFound: no server with that uuid (404).
	ErrServerNotFound = errors.New("server not found")
	// ErrActionNotFound: no action of the server with that request id
	// (404).
	ErrActionNotFound = errors.New("action not found")
	// ErrMarkerNotFound: a listing's marker names no server (400).
	ErrMarkerNotFound = errors.New("marker not found")
	// ErrBusy: the server's adoption or release is in progress or being
	// repaired (409).
	ErrBusy = errors.New("server is busy")
)

// refusal is an error worded for the operator whose kind callers test with
// errors.Is, without the cause's internal text.
type refusal struct {
	kind error
	msg  string
}

func (r *refusal) Error() string { return r.msg }
func (r *refusal) Unwrap() error { return r.kind }

// RetryAfter says how long a caller should wait before retrying, when the
// error knows (a crashing driver plugin backing off).
func RetryAfter(err error) (time.Duration, bool) {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		return ra.RetryAfter(), true
	}
	return 0, false
}

// adoptionOutcome is the metrics label of an adoption that ended with err:
// refused when the caller gets a 4xx (nothing is left changed), failed
// for anything else.
func adoptionOutcome(err error) string {
	switch {
	case err == nil:
		return metrics.AdoptionAdopted
	case errors.Is(err, ErrNodeNotFound), errors.Is(err, ErrNotManageable), errors.Is(err, ErrConflict),
		errors.Is(err, ErrInvalidArgument), errors.Is(err, ErrBusy), errors.Is(err, ErrNotImplemented):
		return metrics.AdoptionRefused
	}
	return metrics.AdoptionFailed
}
