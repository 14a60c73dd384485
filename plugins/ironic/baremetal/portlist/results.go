package portlist

import (
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/paging"
)

// PortPage is one page of a port listing. Decode it with gophercloud's
// ports.Port or a struct of the fields asked for, through ExtractPortsInto.
type PortPage struct {
	pagination.LinkedPageBase
}

// IsEmpty reports whether the page holds no port, without decoding them.
func (r PortPage) IsEmpty() (bool, error) { return paging.IsEmpty(r.PageResult, "ports"), nil }

// NextPageURL is this request with the marker moved on.
func (r PortPage) NextPageURL() (string, error) { return paging.NextURL(r.PageResult, "ports") }

// ExtractPortsInto decodes a page's ports into v, a pointer to a slice.
func ExtractPortsInto(r pagination.Page, v any) error {
	return r.(PortPage).ExtractIntoSlicePtr(v, "ports")
}
