package glance

import (
	"context"
	"errors"

	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// ErrUnavailable is Glance (or the Keystone in front of it) unreachable,
// failing (5xx), refusing the host's credentials (401, 403) or answering
// what Glance would not. The message names Glance and its URL, without
// userinfo: "Glance at <url> is unavailable: …".
var ErrUnavailable = errors.New("glance unavailable")

// Client looks up images.
type Client struct {
	glance *osclient.Lazy
}

// New parses the [glance] section's options (shared/osclient); an invalid
// option is an error naming "[glance] <option>". It connects at once; when
// Keystone (or Glance's version discovery through the catalog) fails, it
// logs that and connects again at the first lookup, so that a Keystone
// down at start does not keep the host down: each lookup is ErrUnavailable
// until it is back.
// observe, when set, is told of every request (the host's metrics).
func New(ctx context.Context, opts map[string]string, log hclog.Logger, observe osclient.Observer) (*Client, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	l, err := osclient.Open(ctx, "glance", opts, osclient.Spec{}, osclient.Service{
		Name: "Glance", Observe: observe, New: openstack.NewImageV2, Version: "v2", Unavailable: ErrUnavailable,
	}, log.Named("glance"))
	if err != nil {
		return nil, err
	}
	return &Client{glance: l}, nil
}

// probeID is an image id no Glance has: looking it up costs one small
// listing and finds nothing.
const probeID = "00000000-0000-0000-0000-000000000000"

// Check reports whether Glance answers (for /readyz): nil, or the
// ErrUnavailable an image lookup would get.
func (c *Client) Check(ctx context.Context) error {
	_, err := c.Existing(ctx, []string{probeID})
	return err
}
