package portgroups

import (
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
