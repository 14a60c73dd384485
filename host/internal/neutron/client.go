package neutron

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// ErrUnavailable is Neutron (or the Keystone in front of it) unreachable,
// failing (5xx), refusing the host's credentials (401, 403) or answering
// what Neutron would not. The message names Neutron and its URL, without
// userinfo: "Neutron at <url> is unavailable: …".
var ErrUnavailable = errors.New("neutron unavailable")

// ErrPortNotFound is a port that does not exist (any more).
var ErrPortNotFound = errors.New("neutron port not found")

// Client calls Neutron's networking v2.0 API.
type Client struct {
	neutron *osclient.Lazy
	log     hclog.Logger
}

// New parses the [neutron] section's options (shared/osclient); an invalid
// option is an error naming "[neutron] <option>". It connects at once; when
// Keystone (or Neutron's version discovery through the catalog) fails, it
// logs that and connects again at the next call, so that a Keystone down
// at start does not keep the host down: each call is ErrUnavailable until
// it is back.
// observe, when set, is told of every request (the host's metrics).
func New(ctx context.Context, opts map[string]string, log hclog.Logger, observe osclient.Observer) (*Client, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("neutron")
	l, err := osclient.Open(ctx, "neutron", opts, osclient.Spec{}, osclient.Service{
		Name: "Neutron", Observe: observe, New: openstack.NewNetworkV2, Version: "v2.0", Unavailable: ErrUnavailable,
		ErrorMessage: func(body []byte) string { _, msg := neutronError(body); return msg },
	}, log)
	if err != nil {
		return nil, err
	}
	return &Client{neutron: l, log: log}, nil
}

// neutronError reads Neutron's error body, {"NeutronError": {"type":
// "PortNotFound", "message": …}}: its type and message, or "" for both
// when the body is not Neutron's.
func neutronError(body []byte) (typ, message string) {
	var e struct {
		NeutronError struct{ Type, Message string } `json:"NeutronError"`
	}
	if json.Unmarshal(body, &e) == nil && e.NeutronError.Message != "" {
		return e.NeutronError.Type, e.NeutronError.Message
	}
	return "", ""
}

// probeID is a port id no Neutron has: looking it up costs one small
// listing and finds nothing.
const probeID = "00000000-0000-0000-0000-000000000000"

// Check reports whether Neutron answers (for /readyz): nil, or the
// ErrUnavailable a port lookup would get.
func (c *Client) Check(ctx context.Context) error {
	_, err := c.Ports(ctx, []string{probeID})
	return err
}
