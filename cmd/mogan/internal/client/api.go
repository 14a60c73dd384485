package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Node is one entry of GET /v1/manageable_servers, as the API sent it
// (uuid, name, resource_class, power_state, provision_state, ports,
// portgroups, image_source, backend; manageable and reason with all=true).
type Node = map[string]any

// NodeString is a string field of a node, "" when absent or null.
func NodeString(n Node, key string) string {
	s, _ := n[key].(string)
	return s
}

// ListManageableOptions filter the listing.
type ListManageableOptions struct {
	// All adds the nodes that cannot be adopted (with manageable: false
	// and the reason).
	All           bool
	ResourceClass string
	// Backend limits the listing to one backend (an API with several);
	// the API refuses a name it does not know, listing the valid ones.
	Backend string
}

// ListManageable reads every adoptable node in one streamed answer.
func (c *Client) ListManageable(ctx context.Context, o ListManageableOptions) ([]Node, error) {
	q := url.Values{}
	if o.All {
		q.Set("all", "true")
	}
	if o.ResourceClass != "" {
		q.Set("resource_class", o.ResourceClass)
	}
	if o.Backend != "" {
		q.Set("backend", o.Backend)
	}
	var body struct {
		Nodes []Node `json:"manageable_servers"`
	}
	if err := c.do(ctx, http.MethodGet, "/manageable_servers", q, nil, &body); err != nil {
		return nil, err
	}
	if body.Nodes == nil {
		body.Nodes = []Node{}
	}
	return body.Nodes, nil
}

// ManageRequest is the body of POST /v1/manageable_servers.
type ManageRequest struct {
	NodeUUID    string            `json:"node_uuid"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	// ProjectID and UserID adopt into a tenant's project (admin); empty:
	// the caller's own.
	ProjectID string `json:"project_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	// Backend names the backend holding the node; empty: the API finds
	// it (and refuses a node it finds in several).
	Backend string `json:"backend,omitempty"`
}

// Manage adopts a node and returns the server the API created.
func (c *Client) Manage(ctx context.Context, r ManageRequest) (Server, error) {
	var srv Server
	err := c.do(ctx, http.MethodPost, "/manageable_servers", nil, r, &srv)
	return srv, err
}

// Plan is the answer of a dry run: what an adoption would do.
type Plan struct {
	DryRun      bool             `json:"dry_run"`
	Server      map[string]any   `json:"server"`
	PortsToBind []map[string]any `json:"ports_to_bind"`
	ImageUUID   *string          `json:"image_uuid"`
}

// DryRunManage asks what Manage would do, changing nothing. An API that
// does not know dry_run adopts the node instead: that answer is a
// *NoDryRunError naming the server it created.
func (c *Client) DryRunManage(ctx context.Context, r ManageRequest) (Plan, error) {
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodPost, "/manageable_servers", url.Values{"dry_run": {"true"}}, r, &raw); err != nil {
		return Plan{}, err
	}
	var p Plan
	if err := unmarshalNumber(raw, &p); err != nil {
		return Plan{}, err
	}
	if !p.DryRun {
		var srv Server
		_ = srv.UnmarshalJSON(raw)
		return Plan{}, &NoDryRunError{ServerUUID: srv.UUID}
	}
	return p, nil
}

// NoDryRunError is an API that ignored dry_run=true: it adopted the node.
type NoDryRunError struct{ ServerUUID string }

func (e *NoDryRunError) Error() string {
	return fmt.Sprintf("this API does not support dry runs: it adopted the node as server %s (unmanage it to undo)", e.ServerUUID)
}

// Server is a server body (GET /v1/servers/{uuid}, the detail listing,
// the manage answer): the fields the CLI reads, and all of them in Raw.
type Server struct {
	UUID       string
	Name       string
	NodeUUID   string
	Status     string
	PowerState string
	ProjectID  string
	// Backend is the backend the server's node is in ("" from an API
	// without backends).
	Backend string
	Raw     map[string]any
}

// UnmarshalJSON keeps every field in Raw.
func (s *Server) UnmarshalJSON(b []byte) error {
	if err := unmarshalNumber(b, &s.Raw); err != nil {
		return err
	}
	s.UUID, _ = s.Raw["uuid"].(string)
	s.Name, _ = s.Raw["name"].(string)
	s.NodeUUID, _ = s.Raw["node_uuid"].(string)
	s.Status, _ = s.Raw["status"].(string)
	s.PowerState, _ = s.Raw["power_state"].(string)
	s.ProjectID, _ = s.Raw["project_id"].(string)
	s.Backend, _ = s.Raw["backend"].(string)
	return nil
}

// serversPage is how many servers one listing request asks for.
const serversPage = 1000

// ListServers reads every server the caller may see (allTenants: every
// project's, admin only), page by page.
func (c *Client) ListServers(ctx context.Context, allTenants bool) ([]Server, error) {
	var all []Server
	marker := ""
	for {
		q := url.Values{"limit": {strconv.Itoa(serversPage)}}
		if allTenants {
			q.Set("all_tenants", "true")
		}
		if marker != "" {
			q.Set("marker", marker)
		}
		var page struct {
			Servers []Server `json:"servers"`
		}
		if err := c.do(ctx, http.MethodGet, "/servers/detail", q, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Servers...)
		if len(page.Servers) < serversPage {
			if all == nil {
				all = []Server{}
			}
			return all, nil
		}
		marker = page.Servers[len(page.Servers)-1].UUID
	}
}

// GetServer reads one server.
func (c *Client) GetServer(ctx context.Context, id string) (Server, error) {
	var srv Server
	err := c.do(ctx, http.MethodGet, "/servers/"+url.PathEscape(id), nil, nil, &srv)
	return srv, err
}

// Unmanage releases a server; the machine keeps running.
func (c *Client) Unmanage(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/servers/"+url.PathEscape(id)+"/unmanage", nil, nil, nil)
}

// Action is one entry of a server's audit trail.
type Action = map[string]any

// ListActions reads a server's actions, newest first.
func (c *Client) ListActions(ctx context.Context, id string) ([]Action, error) {
	var body struct {
		Actions []Action `json:"actions"`
	}
	if err := c.do(ctx, http.MethodGet, "/servers/"+url.PathEscape(id)+"/actions", nil, nil, &body); err != nil {
		return nil, err
	}
	if body.Actions == nil {
		body.Actions = []Action{}
	}
	return body.Actions, nil
}

// GetAction reads one action of a server by its request id.
func (c *Client) GetAction(ctx context.Context, id, requestID string) (Action, error) {
	var body struct {
		Action Action `json:"action"`
	}
	err := c.do(ctx, http.MethodGet, "/servers/"+url.PathEscape(id)+"/actions/"+url.PathEscape(requestID), nil, nil, &body)
	return body.Action, err
}
