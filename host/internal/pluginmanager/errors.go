package pluginmanager

import (
	"fmt"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// ErrDriverUnavailable means the driver plugin cannot answer right now: it
// crashed during the call, is being restarted, or is waiting out a restart
// backoff (the API answers 503). The next call after a crash restarts it.
// It is a driver.ErrUnavailable, so callers see the SDK's typed error.
var ErrDriverUnavailable error = &kindError{msg: "driver unavailable", kind: driver.ErrUnavailable}

// kindError is a sentinel of its own that is also one of the SDK's kinds.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// BackoffError is the ErrDriverUnavailable a call gets, at once, while the
// manager waits before restarting a plugin that keeps crashing.
type BackoffError struct {
	// Driver is the driver's name.
	Driver string
	// Backend is the backend's name ("" or Driver for the one backend
	// named after its driver).
	Backend string
	// Wait is how long until the next restart is allowed (the API's
	// Retry-After).
	Wait time.Duration
	// Failures counts the consecutive crashes and failed starts.
	Failures int
	// Last is the failure that started this backoff, if known.
	Last error
}

func (e *BackoffError) Error() string {
	msg := fmt.Sprintf("%s is unavailable: it failed %d times in a row, next restart in %s",
		describe(e.Backend, e.Driver), e.Failures, e.Wait.Round(time.Millisecond))
	if e.Last != nil {
		msg += " (last failure: " + e.Last.Error() + ")"
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrDriverUnavailable) true.
func (e *BackoffError) Unwrap() error { return ErrDriverUnavailable }

// RetryAfter is how long a caller should wait before retrying.
func (e *BackoffError) RetryAfter() time.Duration { return e.Wait }
