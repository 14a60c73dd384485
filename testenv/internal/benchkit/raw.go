package benchkit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/ironicdriver"
	"github.com/mogan-manage/mogan-manage/testenv/internal/service"
)

// Notes are lines that the goroutines of a run add to (the retries each
// side made), printed under the table: a time that holds retries is
// slower for a reason the table does not show.
type Notes struct {
	mu    sync.Mutex
	lines []string
}

// Add appends line; it is safe for concurrent use.
func (n *Notes) Add(line string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lines = append(n.lines, line)
}

// Lines are the lines added so far, in order.
func (n *Notes) Lines() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.lines)
}

// Client makes the raw side's requests to Ironic and Neutron: what the
// host would ask, sent directly, with the connections kept open as the
// host's clients keep them.
type Client struct {
	http    *http.Client
	retries *Notes
}

// NewClient is a Client that notes each retried answer in retries.
func NewClient(retries *Notes) *Client {
	return &Client{http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 2 * time.Minute}, retries: retries}
}

// Call sends one request (JSON body, Ironic's microversion) and decodes
// its answer into out; a status other than want is an error. A 5xx is
// tried again, up to three times.
func (c *Client) Call(ctx context.Context, url, method string, body, out any, want int) error {
	return c.callTry(ctx, url, method, body, out, want, 0)
}

// callTry is Call's retry-th try.
func (c *Client) callTry(ctx context.Context, url, method string, body, out any, want, retry int) error {
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-OpenStack-Ironic-API-Version", ironicdriver.DefaultAPIVersion)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 500 && retry < 3 {
		// Neutron on SQLite answers 500 now and then under load: the
		// raw side tries again, as the host's rerun does.
		c.retries.Add(fmt.Sprintf("raw: %s %s answered %d, retried", method, url, resp.StatusCode))
		time.Sleep(time.Duration(retry+1) * 200 * time.Millisecond)
		return c.callTry(ctx, url, method, body, out, want, retry+1)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, service.Tail(string(data), 3))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// WaitProvisionState polls the node in the Ironic at ironicURL (its /v1)
// until its provision state is want, as the driver does: after 20 ms,
// doubling to 1 s. A state that is neither want nor one on the way there
// is an error.
func (c *Client) WaitProvisionState(ctx context.Context, ironicURL, node, want string) error {
	delay := 20 * time.Millisecond
	for {
		var n struct {
			ProvisionState string `json:"provision_state"`
			LastError      string `json:"last_error"`
		}
		if err := c.Call(ctx, ironicURL+"/nodes/"+node+"?fields=provision_state,last_error", http.MethodGet, nil, &n, http.StatusOK); err != nil {
			return err
		}
		switch n.ProvisionState {
		case want:
			return nil
		case "verifying", "adopting", "enroll", "manageable":
		default:
			return fmt.Errorf("node %s is %s (%s), waiting for %s", node, n.ProvisionState, n.LastError, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// ManageAdoptProtect makes the requests a migration makes for a node it
// created in the Ironic at ironicURL (its /v1): manage it and wait until
// it is manageable, adopt it and wait until it is active, then protect it
// with the migration's reason.
func (c *Client) ManageAdoptProtect(ctx context.Context, ironicURL, node, migration string) error {
	for _, step := range []struct{ target, want string }{{"manage", "manageable"}, {"adopt", "active"}} {
		if err := c.Call(ctx, ironicURL+"/nodes/"+node+"/states/provision", http.MethodPut, map[string]string{"target": step.target},
			nil, http.StatusAccepted); err != nil {
			return err
		}
		if err := c.WaitProvisionState(ctx, ironicURL, node, step.want); err != nil {
			return err
		}
	}
	return c.Call(ctx, ironicURL+"/nodes/"+node, http.MethodPatch, []map[string]any{
		{"op": "add", "path": "/protected", "value": true},
		{"op": "add", "path": "/protected_reason", "value": "mogan-manage migration " + migration},
	}, nil, http.StatusOK)
}

// BindPort binds the Neutron port (the Neutron at neutronURL) to the
// node, as the driver's Manage does for each of a node's VIFs.
func (c *Client) BindPort(ctx context.Context, neutronURL, port, node string) error {
	return c.Call(ctx, neutronURL+"/v2.0/ports/"+port, http.MethodPut, map[string]any{"port": map[string]any{
		"binding:host_id": node, "binding:vnic_type": "baremetal",
	}}, nil, http.StatusOK)
}

// Associate associates the node in the Ironic at ironicURL (its /v1) with
// the server, as the driver's Manage does: instance_uuid, protected with
// the server's reason, automated cleaning off, and the interlock's record
// of what the migration had set.
func (c *Client) Associate(ctx context.Context, ironicURL, node, server, migration string) error {
	return c.Call(ctx, ironicURL+"/nodes/"+node, http.MethodPatch, []map[string]any{
		{"op": "add", "path": "/instance_uuid", "value": server},
		{"op": "add", "path": "/protected", "value": true},
		{"op": "add", "path": "/protected_reason", "value": "adopted by mogan-manage server " + server},
		{"op": "add", "path": "/automated_clean", "value": false},
		{"op": "add", "path": "/extra/mogan_interlock", "value": map[string]any{
			"protected": true, "protected_reason": "mogan-manage migration " + migration, "automated_clean": false}},
	}, nil, http.StatusOK)
}
