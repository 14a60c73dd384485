package pluginmanager

import (
	"errors"
	"fmt"
	"time"
)

// ErrDriverUnavailable means the driver plugin cannot answer right now: it
// crashed during the call, is being restarted, or is waiting out a restart
// backoff (the API answers 503). The next call after a crash restarts it.
var ErrDriverUnavailable = errors.New("driver unavailable")

// BackoffError is the ErrDriverUnavailable a call gets, at once, while the
// manager waits before restarting a plugin that keeps crashing.
type BackoffError struct {
	// Driver is the driver's name.
	Driver string
	// RetryAfter is how long until the next restart is allowed (the API's
	// Retry-After).
	RetryAfter time.Duration
	// Failures counts the consecutive crashes and failed starts.
	Failures int
	// Last is the failure that started this backoff, if known.
	Last error
}

func (e *BackoffError) Error() string {
	msg := fmt.Sprintf("driver %q is unavailable: it failed %d times in a row, next restart in %s",
		e.Driver, e.Failures, e.RetryAfter.Round(time.Millisecond))
	if e.Last != nil {
		msg += " (last failure: " + e.Last.Error() + ")"
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrDriverUnavailable) true.
func (e *BackoffError) Unwrap() error { return ErrDriverUnavailable }
