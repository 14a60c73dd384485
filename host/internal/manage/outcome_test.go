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
		"ironic down":     {driver.Unavailable("Ironic is unavailable"), "failed"},
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
