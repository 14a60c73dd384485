package ironicdriver

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
)

// ironicPage is one page of a node, port or portgroup listing, decoded
// once, straight from the response body (gophercloud's pagination decodes
// each page three times: into a generic map, back to JSON and into the
// caller's structs — most of the plugin's CPU in a listing). Only the
// field of the resource asked for is set.
type ironicPage struct {
	Nodes      []ironicNode      `json:"nodes"`
	Ports      []ironicPort      `json:"ports"`
	Portgroups []ironicPortgroup `json:"portgroups"`
	// Next is Ironic's link to the next page; it drops the query's
	// filters, so the next page is asked for with the marker moved on
	// instead (pageQuery). Set whenever the page is full.
	Next string `json:"next"`
}

// pageQuery is one page request of a listing: resource ("nodes", "ports"
// or "portgroups") filtered and shaped by query, limit items after marker.
type pageQuery struct {
	resource string
	query    url.Values
	marker   string
	limit    int
}

// getPage fetches one page through the service client (authentication,
// microversion header, errors as gophercloud's) and decodes it into the
// driver's structs with one json.Decoder pass.
func getPage(ctx context.Context, sc *gophercloud.ServiceClient, q pageQuery) (*ironicPage, error) {
	v := url.Values{}
	for k, vs := range q.query {
		v[k] = vs
	}
	if q.limit > 0 {
		v.Set("limit", strconv.Itoa(q.limit))
	}
	if q.marker != "" {
		v.Set("marker", q.marker)
	}
	var page ironicPage
	// With a JSONResponse gophercloud decodes the body and closes it.
	_, err := sc.Get(ctx, sc.ServiceURL(q.resource)+"?"+v.Encode(), &page, &gophercloud.RequestOpts{OkCodes: []int{200}}) //nolint:bodyclose // closed by gophercloud

	if err != nil {
		return nil, err
	}
	return &page, nil
}

// itemsOf returns the page's items of q's resource: how many, and the
// uuid of the last one (the next page's marker).
func (p *ironicPage) itemsOf(resource string) (n int, last string) {
	switch resource {
	case "nodes":
		if n = len(p.Nodes); n > 0 {
			last = p.Nodes[n-1].UUID
		}
	case "ports":
		if n = len(p.Ports); n > 0 {
			last = p.Ports[n-1].UUID
		}
	case "portgroups":
		if n = len(p.Portgroups); n > 0 {
			last = p.Portgroups[n-1].UUID
		}
	}
	return n, last
}

// fieldsQuery is the query asking for fields only.
func fieldsQuery(fields []string) url.Values {
	return url.Values{"fields": {strings.Join(fields, ",")}}
}

// nodeItems reads all the ports or portgroups (resource) of one node,
// with fields, in Ironic's order (by id, which within a node is the order
// of the listing's streams sorted by node_id).
func nodeItems(ctx context.Context, sc *gophercloud.ServiceClient, resource, nodeUUID string, fields []string) (*ironicPage, error) {
	q := pageQuery{resource: resource, query: fieldsQuery(fields), limit: pageSize}
	q.query.Set("node", nodeUUID)
	all := &ironicPage{}
	for {
		page, err := getPage(ctx, sc, q)
		if err != nil {
			return nil, err
		}
		all.Ports = append(all.Ports, page.Ports...)
		all.Portgroups = append(all.Portgroups, page.Portgroups...)
		n, last := page.itemsOf(resource)
		if page.Next == "" || n == 0 {
			return all, nil
		}
		q.marker = last
	}
}
