package manage

import (
	"errors"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/errkind"
	"github.com/mogan-manage/mogan-manage/host/internal/metrics"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// The kinds of failure this package returns, tested with errors.Is. The
// driver's kinds are the SDK's own values, so a driver's typed error
// passes through the plugin boundary and this package unchanged; the
// host's own are errkind's. What each becomes (HTTP status, notification
// exception, metrics label, adoption outcome) is errkind's table.
var (
	ErrNotImplemented  = driver.ErrNotImplemented  // 501
	ErrNodeNotFound    = driver.ErrNodeNotFound    // 404
	ErrNotManageable   = driver.ErrNotManageable   // 409
	ErrConflict        = driver.ErrConflict        // 409
	ErrUnavailable     = driver.ErrUnavailable     // 503: the driver, its backend, Glance or Neutron
	ErrInvalidArgument = driver.ErrInvalidArgument // 400

	ErrServerNotFound   = errkind.ErrServerNotFound   // 404: no server with that uuid
	ErrActionNotFound   = errkind.ErrActionNotFound   // 404: no action of the server with that request id
	ErrMarkerNotFound   = errkind.ErrMarkerNotFound   // 400: a listing's marker names no server
	ErrBusy             = errkind.ErrBusy             // 409: the server's adoption or release is in progress or being repaired
	ErrTakenOver        = errkind.ErrTakenOver        // 409: another replica took the intent over
	ErrStoreUnavailable = errkind.ErrStoreUnavailable // 503 with Retry-After: the database cannot be reached
	ErrInterrupted      = errkind.ErrInterrupted      // an adoption the repair pass rolled back
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
// error knows (a crashing driver plugin backing off, the database lost).
func RetryAfter(err error) (time.Duration, bool) {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		return ra.RetryAfter(), true
	}
	return 0, false
}

// adoptionOutcome is the metrics label of an adoption that ended with err:
// refused when the caller gets a 4xx (or a 501) and nothing is left
// changed, failed for anything else (errkind's table says which).
func adoptionOutcome(err error) string {
	switch {
	case err == nil:
		return metrics.AdoptionAdopted
	case errkind.Of(err).Refused:
		return metrics.AdoptionRefused
	}
	return metrics.AdoptionFailed
}
