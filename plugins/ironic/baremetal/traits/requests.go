package traits

import (
	"context"

	"github.com/gophercloud/gophercloud/v2"
)

// Set replaces the node's traits with traits (an empty list removes them
// all).
func Set(ctx context.Context, client *gophercloud.ServiceClient, nodeID string, traits []string) (r SetResult) {
	if traits == nil {
		traits = []string{}
	}
	body := map[string]any{"traits": traits}
	resp, err := client.Put(ctx, setURL(client, nodeID), body, nil, &gophercloud.RequestOpts{OkCodes: []int{204}})
	_, r.Header, r.Err = gophercloud.ParseResponse(resp, err)
	return r
}
