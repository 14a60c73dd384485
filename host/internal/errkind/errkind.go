// Package errkind is the one table of the kinds of error the host answers
// for. Each kind is one row: its HTTP status, the exception name its
// notifications carry, the outcome label of a driver call that ended with
// it, and whether an adoption that ended with it was refused or failed.
// The API, the manage workflow and the metrics all read this table, so a
// new kind is one row here (and, for a driver kind, one row in
// shared/driverplugin's table of gRPC codes).
//
// The driver's kinds are the SDK's own sentinels (shared/driver). The
// host's own are declared here, below every package that classifies them;
// manage re-exports them under the names its callers use.
package errkind

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
	"github.com/mogan-manage/mogan-manage/host/internal/policy"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// The host's own kinds.
var (
	// ErrServerNotFound: no server with that uuid.
	ErrServerNotFound = errors.New("server not found")
	// ErrActionNotFound: no action of the server with that request id.
	ErrActionNotFound = errors.New("action not found")
	// ErrMarkerNotFound: a listing's marker names no server.
	ErrMarkerNotFound = errors.New("marker not found")
	// ErrBusy: the server's adoption or release is in progress or being
	// repaired.
	ErrBusy = errors.New("server is busy")
	// ErrTakenOver: another replica took the intent over (this one's lease
	// expired and the intent's fence grew), so this one touched nothing
	// more.
	ErrTakenOver = errors.New("taken over by another replica")
	// ErrStoreUnavailable: the database cannot be reached (or its
	// connection was lost mid-way); the caller may retry after RetryAfter.
	ErrStoreUnavailable error = &retryLater{msg: "the database is unavailable", wait: 5 * time.Second}
	// ErrInterrupted: an adoption the repair pass rolled back because the
	// host stopped mid-way.
	ErrInterrupted = errors.New("the adoption was interrupted (the host stopped mid-way) and has been rolled back")
)

// retryLater is a sentinel that says when to try again (the API's
// Retry-After).
type retryLater struct {
	msg  string
	wait time.Duration
}

func (e *retryLater) Error() string { return e.msg }

// RetryAfter is how long a caller should wait before retrying.
func (e *retryLater) RetryAfter() time.Duration { return e.wait }

// Kind is one kind of error and what each part of the host makes of it.
type Kind struct {
	// Err is the kind's sentinel, matched with errors.Is.
	Err error
	// Status is the HTTP status the API answers with.
	Status int
	// Exception names the kind in a notification's fault, as upstream
	// names its exception classes.
	Exception string
	// Label is the outcome label of a driver call that ended with it
	// (mogan_driver_calls_total).
	Label string
	// Refused says that an adoption that ended with it was refused (the
	// caller got a 4xx, or a 501, and nothing was left changed), not
	// failed.
	Refused bool
}

// The adoption outcome column.
const (
	refused = true
	failed  = false
)

// kinds is every kind, once. An error's kind is the first row it matches,
// so a row that says more about what happened comes before a kind it may
// wrap: Keystone unavailable before its deadline, a lost intent or
// database before the driver error of the call it cut short.
var kinds = []Kind{
	// sentinel, HTTP status, exception, driver call's label, adoption
	{auth.ErrUnauthenticated, http.StatusUnauthorized, "MoganException", "error", refused},
	{auth.ErrAuthUnavailable, http.StatusServiceUnavailable, "MoganException", "error", failed},
	{policy.ErrForbidden, http.StatusForbidden, "MoganException", "error", refused},
	{ErrTakenOver, http.StatusConflict, "TakenOver", "error", failed},
	{ErrStoreUnavailable, http.StatusServiceUnavailable, "ServiceUnavailable", "error", failed},
	{driver.ErrNotImplemented, http.StatusNotImplemented, "NotImplemented", "not_implemented", refused},
	{driver.ErrNodeNotFound, http.StatusNotFound, "NodeNotFound", "not_found", refused},
	{ErrServerNotFound, http.StatusNotFound, "MoganException", "error", refused},
	{ErrActionNotFound, http.StatusNotFound, "MoganException", "error", refused},
	{ErrMarkerNotFound, http.StatusBadRequest, "MoganException", "error", refused},
	{driver.ErrNotManageable, http.StatusConflict, "NodeNotManageable", "not_manageable", refused},
	{driver.ErrConflict, http.StatusConflict, "Conflict", "conflict", refused},
	{driver.ErrNodeProtected, http.StatusConflict, "NodeProtected", "node_protected", refused},
	{driver.ErrInvalidState, http.StatusConflict, "InvalidState", "invalid_state", refused},
	{ErrBusy, http.StatusConflict, "MoganException", "error", refused},
	{driver.ErrInvalidArgument, http.StatusBadRequest, "InvalidParameterValue", "invalid", refused},
	{driver.ErrUnavailable, http.StatusServiceUnavailable, "ServiceUnavailable", "unavailable", failed},
	{context.DeadlineExceeded, http.StatusGatewayTimeout, "Timeout", "timeout", failed},
	{context.Canceled, http.StatusInternalServerError, "MoganException", "canceled", failed},
	{ErrInterrupted, http.StatusInternalServerError, "AdoptionInterrupted", "error", failed},
}

// unknown is the kind of an error no row matches: a bug, or a failure no
// one typed.
var unknown = Kind{Status: http.StatusInternalServerError, Exception: "MoganException", Label: "error", Refused: failed}

// Of returns err's kind: the first row err matches with errors.Is, else
// a kind with no sentinel that is a 500, a "MoganException", an "error"
// and a failure. Success is the caller's to tell: Of(nil) is that too.
func Of(err error) Kind {
	if err == nil {
		return unknown
	}
	for _, k := range kinds {
		if errors.Is(err, k.Err) {
			return k
		}
	}
	return unknown
}
