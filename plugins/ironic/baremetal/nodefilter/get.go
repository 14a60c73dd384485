package nodefilter

import (
	"context"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
)

// Get fetches one node with only the given fields (gophercloud's nodes.Get
// always fetches all of them). Extract the result with ExtractInto.
func Get(ctx context.Context, client *gophercloud.ServiceClient, id string, fields []string) (r nodes.GetResult) {
	url := client.ServiceURL("nodes", id)
	if len(fields) > 0 {
		url += "?fields=" + strings.Join(fields, ",")
	}
	resp, err := client.Get(ctx, url, &r.Body, &gophercloud.RequestOpts{OkCodes: []int{200}})
	_, r.Header, r.Err = gophercloud.ParseResponse(resp, err)
	return r
}
