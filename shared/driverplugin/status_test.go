package driverplugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// TestErrorsCrossTheBoundary: every kind a driver returns comes back on
// the host as the same kind, with its reason and option, and with the
// status code DESIGN.md's HTTP table expects.
func TestErrorsCrossTheBoundary(t *testing.T) {
	tests := map[string]struct {
		err        error
		code       codes.Code
		kind       error
		reason     string
		option     string
		messageHas string
	}{
		"not implemented": {driver.NotImplemented("listing"), codes.Unimplemented, driver.ErrNotImplemented, "", "", "listing"},
		"not found":       {driver.NotFound("node %s could not be found", "n1"), codes.NotFound, driver.ErrNodeNotFound, "", "", "n1"},
		"not manageable": {driver.NotManageable("n1", "node is in maintenance"), codes.FailedPrecondition, driver.ErrNotManageable,
			"node is in maintenance", "", "maintenance"},
		"conflict":       {driver.Conflict("taken"), codes.Aborted, driver.ErrConflict, "", "", "taken"},
		"unavailable":    {driver.Unavailable("Ironic at http://x is down"), codes.Unavailable, driver.ErrUnavailable, "", "", "http://x"},
		"invalid option": {driver.InvalidOption("url", "is not a URL"), codes.InvalidArgument, driver.ErrInvalidArgument, "", "url", "is not a URL"},
		"wrapped":        {fmt.Errorf("listing: %w", driver.NotFound("gone")), codes.NotFound, driver.ErrNodeNotFound, "", "", "gone"},
		"deadline":       {fmt.Errorf("ironic: %w", context.DeadlineExceeded), codes.DeadlineExceeded, context.DeadlineExceeded, "", "", "ironic"},
		"canceled":       {context.Canceled, codes.Canceled, context.Canceled, "", "", "canceled"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			st := toStatus(tc.err)
			if got := status.Code(st); got != tc.code {
				t.Errorf("code = %v; want %v", got, tc.code)
			}
			back := fromStatus(st)
			if !errors.Is(back, tc.kind) {
				t.Errorf("errors.Is(%v, %v) = false", back, tc.kind)
			}
			if errors.Is(back, ErrPluginGone) || errors.Is(back, ErrCallFailed) {
				t.Errorf("a driver's own error reads as a failed call: %v", back)
			}
			if got := driver.ReasonOf(back); got != tc.reason {
				t.Errorf("reason = %q; want %q", got, tc.reason)
			}
			if got := driver.OptionOf(back); got != tc.option {
				t.Errorf("option = %q; want %q", got, tc.option)
			}
			if msg := back.Error(); !strings.Contains(msg, tc.messageHas) {
				t.Errorf("message %q does not contain %q", msg, tc.messageHas)
			}
		})
	}
}

// TestTransportFailuresAreCallFailed: a status without the SDK's detail
// is gRPC's own failure. It never says by itself that the plugin is gone
// (a request the host could not marshal fails the same way): only
// Plugin.Check, which looks at the process, does.
func TestTransportFailuresAreCallFailed(t *testing.T) {
	tests := map[string]struct {
		err        error
		want       error
		connection bool
	}{
		"connection broke": {status.Error(codes.Unavailable, "error reading from server: EOF"), ErrCallFailed, true},
		"marshal":          {status.Error(codes.Internal, "grpc: error while marshaling: string field contains invalid UTF-8"), ErrCallFailed, false},
		"not a status":     {errors.New("boom"), ErrCallFailed, false},
		"deadline":         {status.Error(codes.DeadlineExceeded, "context deadline exceeded"), context.DeadlineExceeded, false},
		"old plugin":       {status.Error(codes.Unimplemented, "unknown method"), driver.ErrNotImplemented, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := fromStatus(tc.err)
			if !errors.Is(got, tc.want) {
				t.Errorf("fromStatus(%v) = %v; want errors.Is %v", tc.err, got, tc.want)
			}
			if errors.Is(got, ErrPluginGone) {
				t.Errorf("fromStatus(%v) = %v: a failed call alone must not say the plugin is gone", tc.err, got)
			}
			if IsConnectionFailure(got) != tc.connection {
				t.Errorf("IsConnectionFailure(%v) = %v; want %v", got, !tc.connection, tc.connection)
			}
		})
	}
	if fromStatus(nil) != nil || toStatus(nil) != nil {
		t.Error("nil errors do not stay nil")
	}
}
