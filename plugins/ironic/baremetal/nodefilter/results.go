package nodefilter

import (
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/paging"
)

// NodePage is one page of a node listing. Unlike gophercloud's
// nodes.NodePage it finds the next page (see package paging).
type NodePage struct {
	pagination.LinkedPageBase
}

// IsEmpty reports whether the page holds no node, without decoding them.
func (r NodePage) IsEmpty() (bool, error) { return paging.IsEmpty(r.PageResult, "nodes"), nil }

// NextPageURL is this request with the marker moved on.
func (r NodePage) NextPageURL() (string, error) { return paging.NextURL(r.PageResult, "nodes") }

// ExtractNodesInto decodes a page's nodes into v, a pointer to a slice of
// the caller's struct (gophercloud's nodes.Node or one with just the
// fields asked for).
func ExtractNodesInto(r pagination.Page, v any) error {
	return r.(NodePage).ExtractIntoSlicePtr(v, "nodes")
}
