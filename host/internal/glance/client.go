package glance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// ErrUnavailable is Glance (or the Keystone in front of it) unreachable,
// failing (5xx), refusing the host's credentials (401, 403) or answering
// what Glance would not. The message names Glance and its URL, without
// userinfo.
var ErrUnavailable = errors.New("glance unavailable")

// unavailable is an error that reads as its message and is ErrUnavailable.
type unavailable struct{ msg string }

func (e *unavailable) Error() string        { return e.msg }
func (e *unavailable) Is(target error) bool { return target == ErrUnavailable }

// Client looks up images.
type Client struct {
	opts *osclient.Options
	log  hclog.Logger

	mu    sync.Mutex
	sc    *gophercloud.ServiceClient // nil until a connection succeeds
	where string                     // "at <endpoint without userinfo>", or how it is found
}

// New parses the [glance] section's options (shared/osclient); an invalid
// option is an error naming "[glance] <option>". It connects at once; when
// Keystone (or Glance's version discovery through the catalog) fails, it
// logs that and connects again at the first lookup, so that a Keystone
// down at start does not keep the host down: each lookup is ErrUnavailable
// until it is back.
func New(ctx context.Context, opts map[string]string, log hclog.Logger) (*Client, error) {
	o, err := osclient.Parse(opts, osclient.Spec{})
	if err != nil {
		return nil, optionError(err)
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	c := &Client{opts: o, log: log.Named("glance"), where: "at " + displayURL(o.URL)}
	if o.URL == "" {
		c.where = "(from the Keystone catalog of " + osclient.Redact(o.AuthURL) + ")"
		if o.Cloud != "" {
			c.where = "(from the Keystone catalog of cloud " + o.Cloud + ")"
		}
	}
	auth := o.AuthType
	if o.Cloud != "" {
		auth = "cloud " + o.Cloud
	}
	if _, _, err := c.client(ctx); err != nil {
		var oe *osclient.OptionError
		if errors.As(err, &oe) {
			return nil, optionError(err)
		}
		c.log.Warn("cannot connect to Glance yet; trying again at the first lookup", "error", err)
	}
	c.log.Info("Glance configured", "where", c.where, "auth", auth)
	return c, nil
}

// client returns the service client, connecting when there is none yet,
// and where Glance is, for messages. Errors are *osclient.OptionError or
// ErrUnavailable.
func (c *Client) client(ctx context.Context) (*gophercloud.ServiceClient, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sc != nil {
		return c.sc, c.where, nil
	}
	sc, err := c.opts.Connect(ctx, osclient.Service{Name: "Glance", New: openstack.NewImageV2})
	if err != nil {
		var oe *osclient.OptionError
		if errors.As(err, &oe) {
			return nil, c.where, err
		}
		return nil, c.where, &unavailable{fmt.Sprintf("Glance %s is unavailable: %s", c.where, osclient.RedactText(err.Error()))}
	}
	// An endpoint that already names the version (a url or a catalog entry
	// ending in /v2) must not get a second one.
	if strings.HasSuffix(strings.TrimSuffix(sc.Endpoint, "/"), "/v2") {
		sc.ResourceBase = strings.TrimSuffix(sc.Endpoint, "/") + "/"
	}
	c.sc, c.where = sc, "at "+displayURL(sc.Endpoint)
	return sc, c.where, nil
}

// displayURL is an endpoint for messages: without userinfo or the trailing
// slash gophercloud adds.
func displayURL(u string) string {
	if u == "" {
		return ""
	}
	return strings.TrimSuffix(osclient.Redact(u), "/")
}

// optionError names the option at fault as the configuration file does.
func optionError(err error) error {
	var oe *osclient.OptionError
	if errors.As(err, &oe) {
		return fmt.Errorf("[glance] %s: %s", oe.Option, oe.Msg)
	}
	return fmt.Errorf("[glance]: %w", err)
}
