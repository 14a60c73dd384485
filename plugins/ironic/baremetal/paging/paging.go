// Package paging follows Ironic's pagination correctly, for the resource
// packages beside it. Ironic's "next" link keeps only sort, fields, limit
// and marker and drops every filter (provision_state, associated,
// maintenance, resource_class, node…), and gophercloud's baremetal pages
// look for "<resource>_links", which Ironic never sends: so the next page
// is the current request with its marker moved to the last item, asked for
// whenever Ironic says there is one.
package paging

import (
	"net/url"

	"github.com/gophercloud/gophercloud/v2/pagination"
)

// items returns the page's list under key, without decoding it further.
func items(r pagination.PageResult, key string) []any {
	body, _ := r.Body.(map[string]any)
	list, _ := body[key].([]any)
	return list
}

// IsEmpty reports whether the page's list under key is empty.
func IsEmpty(r pagination.PageResult, key string) bool {
	return r.StatusCode == 204 || len(items(r, key)) == 0
}

// NextURL is the current request with marker set to the UUID of the page's
// last item, or "" when Ironic says this is the last page.
func NextURL(r pagination.PageResult, key string) (string, error) {
	body, _ := r.Body.(map[string]any)
	if next, _ := body["next"].(string); next == "" {
		return "", nil
	}
	list := items(r, key)
	if len(list) == 0 {
		return "", nil
	}
	last, _ := list[len(list)-1].(map[string]any)
	marker, _ := last["uuid"].(string)
	if marker == "" {
		return "", nil
	}
	u := r.URL
	q := u.Query()
	q.Set("marker", marker)
	u.RawQuery = q.Encode()
	return (&url.URL{Scheme: u.Scheme, User: u.User, Host: u.Host, Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}).String(), nil
}
