package ironicdriver

import (
	"context"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// lockRetry bounds the retries of a request that met Ironic's NodeLocked:
// a conductor holds the node for a moment (a power sync, another
// update, a transition in progress), and the same request succeeds once
// it lets go. attempts 0 retries until the call's deadline.
type lockRetry struct {
	attempts   int
	base, ceil time.Duration
}

var defaultLockRetry = lockRetry{attempts: 8, base: 100 * time.Millisecond, ceil: 2 * time.Second}

// untilDeadline retries as long as the call may last: the undo of an
// enrollment waits out an adoption in progress.
func (r lockRetry) untilDeadline() lockRetry { r.attempts = 0; return r }

// whileLocked runs request, again after a pause while Ironic answers
// NodeLocked, and returns its error classified; a NodeLocked that
// outlasts the retries is a conflict saying so.
func (d *Driver) whileLocked(ctx context.Context, sc *gophercloud.ServiceClient, retry lockRetry, nodeUUID string, request func() error) error {
	delay := retry.base
	for attempt := 1; ; attempt++ {
		err := request()
		if err == nil || !isNodeLocked(err) {
			return classify(err, "ironic", sc.Endpoint)
		}
		if retry.attempts > 0 && attempt >= retry.attempts {
			return driver.Conflict("node %s is still locked by an Ironic conductor after %d attempts: %s",
				nodeUUID, attempt, faultOf(err))
		}
		requestid.Logger(ctx, d.log).Debug("node locked; retrying", "node", nodeUUID, "attempt", attempt, "delay", delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, retry.ceil)
	}
}
