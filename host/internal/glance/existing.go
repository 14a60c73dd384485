package glance

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// chunkSize is how many ids one listing asks for: 50 UUIDs make a query
// of about 1,900 characters, well inside the request line any proxy or
// Glance's own server accepts.
const chunkSize = 50

// Existing returns which of ids exist in Glance (found ones map to true;
// missing ones are absent), looking them up in batches: one
// GET /v2/images?id=in:a,b,c per chunkSize ids, following pages, never one
// request per id. Only UUID-like strings are looked up, as upstream Mogan's
// is_uuid_like (with or without hyphens, braces or urn:uuid:, any case;
// Glance is asked for the canonical form); anything else (an http or file
// URL) is never sent and never in the result.
//
// Glance unreachable or answering 5xx, 401, 403 (or 404 to a listing: the
// url does not lead to Glance) is an error wrapping ErrUnavailable that
// names Glance and its URL. ctx ending is ctx's error, not
// ErrUnavailable: the caller's deadline is not Glance's fault.
func (c *Client) Existing(ctx context.Context, ids []string) (map[string]bool, error) {
	spellings := map[string][]string{} // canonical id → the caller's ids
	var canonical []string
	for _, id := range ids {
		u, err := uuid.Parse(id)
		if err != nil {
			continue
		}
		k := u.String()
		if _, seen := spellings[k]; !seen {
			canonical = append(canonical, k)
		}
		if !slices.Contains(spellings[k], id) {
			spellings[k] = append(spellings[k], id)
		}
	}
	found := make(map[string]bool)
	if len(canonical) == 0 {
		return found, nil
	}
	const op = "image lookup"
	sc, err := c.glance.Client(ctx, op)
	if err != nil {
		return nil, err
	}
	for chunk := range slices.Chunk(canonical, chunkSize) {
		// One more than can match: Glance adds a next link to a full page,
		// and following it would cost a request that finds nothing. A
		// Glance whose api_limit_max is smaller still pages, and is followed.
		// visibility=all: Glance leaves community images out otherwise,
		// and upstream Mogan (an image show) finds them.
		opts := images.ListOpts{ID: "in:" + strings.Join(chunk, ","), Limit: len(chunk) + 1, Visibility: "all"}
		err := images.List(sc, opts).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
			list, err := images.ExtractImages(page)
			if err != nil {
				return false, err
			}
			for _, im := range list {
				for _, id := range spellings[strings.ToLower(im.ID)] {
					found[id] = true
				}
			}
			return true, nil
		})
		if err != nil {
			return nil, c.glance.Classify(ctx, op, err)
		}
	}
	return found, nil
}
