package portlist

import (
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// ListOpts filter and shape GET /v1/ports.
type ListOpts struct {
	// Node keeps the ports of one node (UUID or name).
	Node string `q:"node"`
	// Fields asks Ironic for these fields only.
	Fields []string `q:"fields" format:"comma-separated"`
	// Limit is the page size (Ironic caps it at its [api] max_limit).
	Limit  int    `q:"limit"`
	Marker string `q:"marker"`
	// SortKey may be any port column, e.g. node_id; Ironic's default is id.
	SortKey string `q:"sort_key"`
	SortDir string `q:"sort_dir"`
}

// ToPortListQuery formats ListOpts as a query string.
func (opts ListOpts) ToPortListQuery() (string, error) {
	q, err := gophercloud.BuildQueryString(opts)
	if err != nil {
		return "", err
	}
	return q.String(), nil
}

// List pages through the ports that opts select.
func List(client *gophercloud.ServiceClient, opts ListOpts) pagination.Pager {
	query, err := opts.ToPortListQuery()
	if err != nil {
		return pagination.Pager{Err: err}
	}
	return pagination.NewPager(client, listURL(client)+query, func(r pagination.PageResult) pagination.Page {
		return PortPage{pagination.LinkedPageBase{PageResult: r}}
	})
}
