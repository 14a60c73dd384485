package portgroups

import (
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/paging"
)

// Portgroup is a bond of a node's ports. Fields not asked for with
// ListOpts.Fields stay zero.
type Portgroup struct {
	UUID     string `json:"uuid"`
	Name     string `json:"name"`
	Address  string `json:"address"`
	NodeUUID string `json:"node_uuid"`
	// Mode is the bonding mode, e.g. "active-backup" or "802.3ad".
	Mode                     string         `json:"mode"`
	StandalonePortsSupported bool           `json:"standalone_ports_supported"`
	Properties               map[string]any `json:"properties"`
	Extra                    map[string]any `json:"extra"`
	// InternalInfo is written by Ironic only, e.g. tenant_vif_port_id.
	InternalInfo map[string]any `json:"internal_info"`
}

// PortgroupPage is one page of a portgroup listing.
type PortgroupPage struct {
	pagination.LinkedPageBase
}

// IsEmpty reports whether the page holds no portgroup.
func (r PortgroupPage) IsEmpty() (bool, error) {
	return paging.IsEmpty(r.PageResult, "portgroups"), nil
}

// NextPageURL is this request with the marker moved on (see package
// paging: Ironic's own link drops the filters).
func (r PortgroupPage) NextPageURL() (string, error) {
	return paging.NextURL(r.PageResult, "portgroups")
}

// ExtractPortgroups returns the portgroups of a page.
func ExtractPortgroups(r pagination.Page) ([]Portgroup, error) {
	var s []Portgroup
	err := ExtractPortgroupsInto(r, &s)
	return s, err
}

// ExtractPortgroupsInto decodes a page's portgroups into v, a pointer to a
// slice of a caller's struct (to decode only the fields it asked for).
func ExtractPortgroupsInto(r pagination.Page, v any) error {
	return r.(PortgroupPage).ExtractIntoSlicePtr(v, "portgroups")
}

// CreateResult is the answer to Create.
type CreateResult struct {
	gophercloud.Result
}

// Extract returns the created portgroup.
func (r CreateResult) Extract() (*Portgroup, error) {
	var pg Portgroup
	err := r.ExtractInto(&pg)
	return &pg, err
}
