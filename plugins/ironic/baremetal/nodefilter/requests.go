package nodefilter

import (
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// ListOpts filter and shape GET /v1/nodes. Pointer booleans are sent when
// set, false included.
type ListOpts struct {
	ProvisionState nodes.ProvisionState `q:"provision_state"`
	// Associated keeps nodes with (true) or without (false) instance_uuid.
	Associated *bool `q:"associated"`
	// Maintenance keeps nodes in (true) or out of (false) maintenance.
	Maintenance   *bool  `q:"maintenance"`
	ResourceClass string `q:"resource_class"`
	// Fields asks Ironic for these fields only.
	Fields []string `q:"fields" format:"comma-separated"`
	// Limit is the page size (Ironic caps it at its [api] max_limit).
	Limit int `q:"limit"`
	// Marker is the UUID of the last node of the previous page.
	Marker  string `q:"marker"`
	SortKey string `q:"sort_key"`
	SortDir string `q:"sort_dir"`
}

var _ nodes.ListOptsBuilder = ListOpts{}

// ToNodeListQuery formats ListOpts for nodes.List.
func (opts ListOpts) ToNodeListQuery() (string, error) {
	q, err := gophercloud.BuildQueryString(opts)
	if err != nil {
		return "", err
	}
	return q.String(), nil
}

// ToNodeListDetailQuery formats ListOpts for nodes.ListDetail, which takes
// no Fields.
func (opts ListOpts) ToNodeListDetailQuery() (string, error) {
	opts.Fields = nil
	return opts.ToNodeListQuery()
}

// Bool returns a pointer to b, for Associated and Maintenance.
func Bool(b bool) *bool { return &b }

// List pages through the nodes that opts select.
func List(client *gophercloud.ServiceClient, opts nodes.ListOptsBuilder) pagination.Pager {
	url := client.ServiceURL("nodes")
	if opts != nil {
		query, err := opts.ToNodeListQuery()
		if err != nil {
			return pagination.Pager{Err: err}
		}
		url += query
	}
	return pagination.NewPager(client, url, func(r pagination.PageResult) pagination.Page {
		return NodePage{pagination.LinkedPageBase{PageResult: r}}
	})
}
