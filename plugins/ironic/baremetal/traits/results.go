package traits

import "github.com/gophercloud/gophercloud/v2"

// SetResult is the answer to Set: only its error says anything.
type SetResult struct {
	gophercloud.ErrResult
}
