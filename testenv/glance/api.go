package glance

import (
	"context"
	"errors"
	"net/http"
)

// ErrNotFound is returned when Glance answers 404.
var ErrNotFound = errors.New("glance: not found")

// CreateImage registers an image with the given id (a UUID) and name, with
// no data: Glance keeps it "queued", which is enough for lookups.
func (g *Glance) CreateImage(ctx context.Context, id, name string) error {
	body := map[string]any{
		"id": id, "name": name, "disk_format": "raw", "container_format": "bare", "visibility": "public",
	}
	return g.Request(ctx, http.MethodPost, "/images", body, nil)
}

// DeleteImage deletes an image; a missing one is ErrNotFound.
func (g *Glance) DeleteImage(ctx context.Context, id string) error {
	return g.Request(ctx, http.MethodDelete, "/images/"+id, nil, nil)
}

// Request calls the v2 API (path relative to it, e.g. "/images"), sending
// body as JSON when it is not nil and decoding a JSON answer into out when
// out is not nil. A 404 is ErrNotFound; any other status outside 2xx is an
// error carrying Glance's answer.
func (g *Glance) Request(ctx context.Context, method, path string, body, out any) error {
	return g.api.Request(ctx, method, path, body, out)
}
