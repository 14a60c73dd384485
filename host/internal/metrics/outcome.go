package metrics

import "github.com/mogan-manage/mogan-manage/host/internal/errkind"

// Outcome is the label of a driver call that ended with err: "ok" for nil,
// else its kind's label in errkind's table ("not_found", "timeout", …),
// "error" for an error of no kind.
func Outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return errkind.Of(err).Label
}
