package errkind

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
	"github.com/mogan-manage/mogan-manage/host/internal/policy"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
)

// TestKinds: what each part of the host makes of an error as it arrives
// (wrapped, from the SDK's constructors), pinned: the HTTP statuses,
// exception names, driver-call labels and adoption outcomes the five
// tables gave before they were one.
func TestKinds(t *testing.T) {
	row := func(status int, exception, label string, refused bool) Kind {
		return Kind{Status: status, Exception: exception, Label: label, Refused: refused}
	}
	tests := map[string]struct {
		err  error
		want Kind
	}{
		"unauthenticated":     {fmt.Errorf("token: %w", auth.ErrUnauthenticated), row(401, "MoganException", "error", refused)},
		"keystone down":       {fmt.Errorf("%w: %w", auth.ErrAuthUnavailable, context.DeadlineExceeded), row(503, "MoganException", "error", failed)},
		"forbidden":           {fmt.Errorf("rule: %w", policy.ErrForbidden), row(403, "MoganException", "error", refused)},
		"taken over":          {fmt.Errorf("node n was %w (manage: %w)", ErrTakenOver, driver.Conflict("late")), row(409, "TakenOver", "error", failed)},
		"database lost":       {errors.Join(driver.NotFound("n"), fmt.Errorf("end intent: %w", ErrStoreUnavailable)), row(503, "ServiceUnavailable", "error", failed)},
		"not implemented":     {fmt.Errorf("adopt: %w", driver.NotImplemented("Manage")), row(501, "NotImplemented", "not_implemented", refused)},
		"node not found":      {driver.NotFound("node n"), row(404, "NodeNotFound", "not_found", refused)},
		"server not found":    {fmt.Errorf("show: %w", ErrServerNotFound), row(404, "MoganException", "error", refused)},
		"action not found":    {ErrActionNotFound, row(404, "MoganException", "error", refused)},
		"marker not found":    {ErrMarkerNotFound, row(400, "MoganException", "error", refused)},
		"not manageable":      {driver.NotManageable("n", "maintenance"), row(409, "NodeNotManageable", "not_manageable", refused)},
		"conflict":            {driver.Conflict("MAC differs"), row(409, "Conflict", "conflict", refused)},
		"node protected":      {driver.NodeProtected("node n is protected"), row(409, "NodeProtected", "node_protected", refused)},
		"invalid state":       {fmt.Errorf("unmanage: %w", driver.InvalidState("node n is adopting")), row(409, "InvalidState", "invalid_state", refused)},
		"busy":                {ErrBusy, row(409, "MoganException", "error", refused)},
		"invalid argument":    {driver.InvalidOption("url", "not a URL"), row(400, "InvalidParameterValue", "invalid", refused)},
		"unavailable":         {driver.Unavailable("Ironic is down"), row(503, "ServiceUnavailable", "unavailable", failed)},
		"deadline":            {fmt.Errorf("ironic: %w", context.DeadlineExceeded), row(504, "Timeout", "timeout", failed)},
		"canceled":            {context.Canceled, row(500, "MoganException", "canceled", failed)},
		"interrupted":         {ErrInterrupted, row(500, "AdoptionInterrupted", "error", failed)},
		"no kind":             {errors.New("boom"), row(500, "MoganException", "error", failed)},
		"nil is no kind":      {nil, row(500, "MoganException", "error", failed)},
		"driver call on host": {&driver.Error{Kind: driver.ErrNotManageable, Message: "from gRPC"}, row(409, "NodeNotManageable", "not_manageable", refused)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Of(tc.err), cmpopts.IgnoreFields(Kind{}, "Err")); diff != "" {
				t.Errorf("Of(%v) (-want +got):\n%s", tc.err, diff)
			}
		})
	}
}

// TestEveryDriverKindHasARow: each kind the SDK carries across gRPC (its
// own table, shared/driverplugin) has a row of its own here.
func TestEveryDriverKindHasARow(t *testing.T) {
	for _, kind := range driverplugin.Kinds() {
		if got := Of(kind).Err; !errors.Is(got, kind) {
			t.Errorf("the driver kind %q has no row of its own (it reads as %v)", kind, got)
		}
	}
}

// TestRowsAreConsistent: every row is reachable (no earlier row shadows
// it), complete, and refused exactly when the caller gets a 4xx or a 501
// (the driver cannot: nothing was done) — except a takeover, a 409 after
// which another replica finishes or undoes what this one started.
func TestRowsAreConsistent(t *testing.T) {
	seen := map[error]bool{}
	for _, k := range kinds {
		t.Run(k.Err.Error(), func(t *testing.T) {
			if seen[k.Err] {
				t.Error("listed twice")
			}
			seen[k.Err] = true
			if got := Of(k.Err); got != k {
				t.Errorf("shadowed by the earlier row %+v", got)
			}
			if k.Status < 400 || k.Status > 599 {
				t.Errorf("status %d is not an error", k.Status)
			}
			if k.Exception == "" || k.Label == "" {
				t.Errorf("exception %q, label %q: want both", k.Exception, k.Label)
			}
			if want := (k.Status < 500 || k.Status == http.StatusNotImplemented) && !errors.Is(k.Err, ErrTakenOver); k.Refused != want {
				t.Errorf("refused = %v for a %d; want %v", k.Refused, k.Status, want)
			}
		})
	}
}

// TestStoreUnavailableSaysWhenToRetry: the database's 503 carries a
// Retry-After of 5 s, wrapped or not.
func TestStoreUnavailableSaysWhenToRetry(t *testing.T) {
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(fmt.Errorf("claim: %w", ErrStoreUnavailable), &ra) || ra.RetryAfter() != 5*time.Second {
		t.Fatalf("ErrStoreUnavailable: RetryAfter missing or not 5 s")
	}
	if Of(ErrStoreUnavailable).Status != http.StatusServiceUnavailable {
		t.Error("ErrStoreUnavailable is not a 503")
	}
}
