package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client is a connection to one Mogan API.
type Client struct {
	base string // scheme://host[:port][/prefix], without /v1
	http *http.Client
	auth authorizer
}

// authorizer sets a request's credentials; reauth, when it can get fresh
// ones (a Keystone token that expired), does and says so.
type authorizer interface {
	authorize(req *http.Request)
	reauth(ctx context.Context, req *http.Request) bool
}

// New is a client of the API at base with no authentication (noauth), or
// with auth when it is not nil. Connect is what the CLI uses.
func newClient(base string, hc *http.Client, auth authorizer) *Client {
	base = strings.TrimSuffix(strings.TrimSuffix(base, "/"), "/v1")
	if auth == nil {
		auth = noAuth{}
	}
	return &Client{base: base, http: hc, auth: auth}
}

// Endpoint is the API's base URL.
func (c *Client) Endpoint() string { return c.base }

// do sends method path (relative to /v1) with body encoded as JSON, and
// decodes a 2xx answer into out (when not nil). Any other status is an
// *APIError.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	_, err := c.doStatus(ctx, method, path, query, body, out)
	return err
}

// doStatus is do that also says which 2xx status the API answered.
func (c *Client) doStatus(ctx context.Context, method, path string, query url.Values, body, out any) (int, error) {
	resp, target, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: reading the answer: %w", method, target, err)
	}
	return resp.StatusCode, nil
}

// doRaw is do that returns the 2xx answer's status and body as they
// came (a body may be empty).
func (c *Client) doRaw(ctx context.Context, method, path string, query url.Values, body any) (int, []byte, error) {
	resp, target, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: reading the answer: %w", method, target, err)
	}
	return resp.StatusCode, b, nil
}

// maxAnswer bounds an answer doRaw reads.
const maxAnswer = 64 << 20

// send sends the request, again with fresh credentials after a 401 they
// can renew and after a 503 with Retry-After, and returns a 2xx answer
// (the caller closes its body) or the *APIError of any other.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, string, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, "", err
		}
	}
	target := c.base + "/v1" + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	once := func() (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		c.auth.authorize(req)
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized && c.auth.reauth(ctx, req) {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
			_ = resp.Body.Close()
			return nil, errRetry
		}
		return resp, nil
	}
	var resp *http.Response
	for attempt := 0; ; attempt++ {
		var err error
		resp, err = once()
		if errors.Is(err, errRetry) {
			resp, err = once()
		}
		if errors.Is(err, errRetry) {
			return nil, target, fmt.Errorf("%s %s: still unauthorized after a new token", method, target)
		}
		if err != nil {
			return nil, target, err
		}
		wait, ok := retryAfter(resp)
		if !ok || attempt >= maxRetries {
			break
		}
		// 503 with Retry-After: the host refused before doing anything
		// (its start-up repair pass, a driver plugin backing off), so the
		// same request may go again.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		select {
		case <-ctx.Done():
			return nil, target, ctx.Err()
		case <-time.After(wait):
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer func() { _ = resp.Body.Close() }()
		return nil, target, apiError(resp)
	}
	return resp, target, nil
}

// errRetry says the request should be sent again with new credentials.
var errRetry = errors.New("retry with new credentials")

// maxRetries bounds the retries of a request answered 503 with
// Retry-After; maxRetryAfter bounds one wait.
const (
	maxRetries    = 10
	maxRetryAfter = 30 * time.Second
)

// retryAfter is how long to wait before sending again a request answered
// 503 with a Retry-After in seconds.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs < 0 {
		return 0, false
	}
	return min(time.Duration(secs)*time.Second, maxRetryAfter), true
}
