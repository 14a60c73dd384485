package metrics

import (
	"context"
	"errors"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// outcomes maps the SDK's error kinds to the outcome label of a driver
// call; the first match wins.
var outcomes = []struct {
	kind  error
	label string
}{
	{driver.ErrNotImplemented, "not_implemented"},
	{driver.ErrNodeNotFound, "not_found"},
	{driver.ErrNotManageable, "not_manageable"},
	{driver.ErrConflict, "conflict"},
	{driver.ErrInvalidArgument, "invalid"},
	{driver.ErrUnavailable, "unavailable"},
	{context.DeadlineExceeded, "timeout"},
	{context.Canceled, "canceled"},
}

// Outcome is the label of a driver call that ended with err: "ok" for nil,
// the kind of a typed error, "error" for anything else.
func Outcome(err error) string {
	if err == nil {
		return "ok"
	}
	for _, o := range outcomes {
		if errors.Is(err, o.kind) {
			return o.label
		}
	}
	return "error"
}
