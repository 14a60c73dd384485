package manage

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// The adoption outcome label: refused for what the caller gets a 4xx for,
// failed for the rest.
func TestAdoptionOutcome(t *testing.T) {
	cases := map[string]struct {
		err  error
		want string
	}{
		"adopted":         {nil, "adopted"},
		"already managed": {alreadyManaged("n"), "refused"},
		"not manageable":  {fmt.Errorf("plan: %w", driver.NotManageable("n", "maintenance")), "refused"},
		"unknown node":    {driver.NotFound("node n"), "refused"},
		"mac mismatch":    {driver.Conflict("MAC differs"), "refused"},
		"not implemented": {driver.NotImplemented("Manage"), "refused"},
		"busy":            {&refusal{kind: ErrBusy, msg: "busy"}, "refused"},
		"ironic down":     {driver.Unavailable("Ironic is unavailable"), "failed"},
		"taken over":      {fmt.Errorf("node n was %w", ErrTakenOver), "failed"},
		"database lost":   {fmt.Errorf("claim: %w", ErrStoreUnavailable), "failed"},
		"deadline":        {context.DeadlineExceeded, "failed"},
		"a bug":           {errors.New("boom"), "failed"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := adoptionOutcome(tc.err); got != tc.want {
				t.Errorf("adoptionOutcome(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

// The fault's exception in a .error notification, as upstream names its
// exception classes.
func TestExceptionName(t *testing.T) {
	cases := map[string]struct {
		err  error
		want string
	}{
		"not manageable": {fmt.Errorf("plan: %w", driver.NotManageable("n", "maintenance")), "NodeNotManageable"},
		"unknown node":   {driver.NotFound("node n"), "NodeNotFound"},
		"conflict":       {driver.Conflict("MAC differs"), "Conflict"},
		"ironic down":    {driver.Unavailable("Ironic is unavailable"), "ServiceUnavailable"},
		"no capability":  {driver.NotImplemented("Manage"), "NotImplemented"},
		"bad option":     {driver.InvalidArgument("bad"), "InvalidParameterValue"},
		"deadline":       {fmt.Errorf("manage: %w", context.DeadlineExceeded), "Timeout"},
		"interrupted":    {ErrInterrupted, "AdoptionInterrupted"},
		"taken over":     {fmt.Errorf("node n was %w", ErrTakenOver), "TakenOver"},
		"database lost":  {fmt.Errorf("claim: %w", ErrStoreUnavailable), "ServiceUnavailable"},
		"a bug":          {errors.New("boom"), "MoganException"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := exceptionName(tc.err); got != tc.want {
				t.Errorf("exceptionName(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}
