// Package jsonapi sends the JSON requests a harness makes to its service
// (to set up fixtures and to check what a client under test did), over
// plain HTTP so that the check does not share code with the client.
package jsonapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// Client sends JSON requests to one API.
type Client struct {
	// URL prefixes every path, e.g. http://127.0.0.1:41234/v2; empty when
	// paths are whole URLs.
	URL string
	// Name starts the errors, e.g. "glance".
	Name string
	// HTTP sends the requests; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// Header is sent with every request, e.g. an API microversion.
	Header http.Header
	// NotFound, when not nil, is what a 404 answer wraps, for errors.Is.
	NotFound error
}

// Request sends body as JSON when it is not nil and decodes a JSON answer
// into out when out is not nil. headers are extra name, value pairs. A 404
// wraps NotFound when it is set; any other status outside 2xx is an error
// quoting the service's answer.
func (c *Client) Request(ctx context.Context, method, path string, body, out any, headers ...string) error {
	resp, err := c.Do(ctx, method, path, body, headers...)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound && c.NotFound != nil:
		return fmt.Errorf("%w: %s %s", c.NotFound, method, path)
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("%s: %s %s: %s: %s", c.Name, method, path, resp.Status, b)
	case out == nil || len(b) == 0:
		return nil
	}
	return json.Unmarshal(b, out)
}

// Do sends the request as Request does and returns the answer, whatever
// its status, for a caller that needs its headers. The caller closes the
// body.
func (c *Client) Do(ctx context.Context, method, path string, body any, headers ...string) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, r)
	if err != nil {
		return nil, err
	}
	for name, values := range c.Header {
		req.Header[name] = slices.Clone(values)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return hc.Do(req)
}
