package glance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.URL+"/v2"+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s %s", ErrNotFound, method, path)
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("glance: %s %s: %s: %s", method, path, resp.Status, b)
	case out == nil || len(b) == 0:
		return nil
	}
	return json.Unmarshal(b, out)
}
