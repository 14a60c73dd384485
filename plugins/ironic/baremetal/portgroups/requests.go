package portgroups

import (
	"context"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// ListOptsBuilder builds the query of a portgroup listing.
type ListOptsBuilder interface {
	ToPortgroupListQuery() (string, error)
}

// ListOpts filter and shape a portgroup listing.
type ListOpts struct {
	// Node keeps the portgroups of one node (UUID or name).
	Node string `q:"node"`
	// Address keeps the portgroup with this MAC address.
	Address string `q:"address"`
	// Fields asks Ironic for these fields only.
	Fields []string `q:"fields" format:"comma-separated"`
	// Limit is the page size (Ironic caps it at its [api] max_limit).
	Limit int `q:"limit"`
	// Marker is the UUID of the last portgroup of the previous page.
	Marker string `q:"marker"`
	// SortKey and SortDir order the listing; Ironic's default is id, asc.
	SortKey string `q:"sort_key"`
	SortDir string `q:"sort_dir"`
	// Detail asks for every field (microversion 1.43).
	Detail bool `q:"detail"`
}

// ToPortgroupListQuery formats ListOpts as a query string.
func (opts ListOpts) ToPortgroupListQuery() (string, error) {
	q, err := gophercloud.BuildQueryString(opts)
	if err != nil {
		return "", err
	}
	return q.String(), nil
}

// List pages through the portgroups that opts select, following Ironic's
// next links.
func List(client *gophercloud.ServiceClient, opts ListOptsBuilder) pagination.Pager {
	url := listURL(client)
	if opts != nil {
		query, err := opts.ToPortgroupListQuery()
		if err != nil {
			return pagination.Pager{Err: err}
		}
		url += query
	}
	return pagination.NewPager(client, url, func(r pagination.PageResult) pagination.Page {
		return PortgroupPage{pagination.LinkedPageBase{PageResult: r}}
	})
}

// CreateOptsBuilder builds the body of a portgroup creation.
type CreateOptsBuilder interface {
	ToPortgroupCreateMap() (map[string]any, error)
}

// CreateOpts describe a new portgroup.
type CreateOpts struct {
	// NodeUUID is the node the portgroup belongs to.
	NodeUUID string `json:"node_uuid" required:"true"`
	// Address is the bond's MAC address.
	Address string `json:"address,omitempty"`
	// Name must be unique among Ironic's portgroups.
	Name string `json:"name,omitempty"`
	// Mode is the bonding mode (microversion 1.26).
	Mode  string         `json:"mode,omitempty"`
	Extra map[string]any `json:"extra,omitempty"`
}

// ToPortgroupCreateMap formats CreateOpts as a request body.
func (opts CreateOpts) ToPortgroupCreateMap() (map[string]any, error) {
	return gophercloud.BuildRequestBody(opts, "")
}

// Create creates a portgroup (POST /v1/portgroups). Extract the new
// portgroup with CreateResult.Extract.
func Create(ctx context.Context, client *gophercloud.ServiceClient, opts CreateOptsBuilder) (r CreateResult) {
	body, err := opts.ToPortgroupCreateMap()
	if err != nil {
		r.Err = err
		return r
	}
	resp, err := client.Post(ctx, createURL(client), body, &r.Body, &gophercloud.RequestOpts{OkCodes: []int{201}})
	_, r.Header, r.Err = gophercloud.ParseResponse(resp, err)
	return r
}
