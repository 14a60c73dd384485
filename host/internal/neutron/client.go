package neutron

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// ErrUnavailable is Neutron (or the Keystone in front of it) unreachable,
// failing (5xx) or refusing the host's credentials (401, 403). The message
// names Neutron's URL, without userinfo.
var ErrUnavailable = errors.New("neutron unavailable")

// ErrPortNotFound is a port that does not exist (any more).
var ErrPortNotFound = errors.New("neutron port not found")

// Client calls Neutron's networking v2.0 API.
type Client struct {
	sc  *gophercloud.ServiceClient
	url string // the endpoint without userinfo, for messages
	log hclog.Logger
}

// New connects to Neutron as the [neutron] section's options say (see
// shared/osclient). A bad option is an error naming "[neutron] <option>";
// with auth_type = password, Keystone failing or unreachable is
// ErrUnavailable.
func New(ctx context.Context, opts map[string]string, log hclog.Logger) (*Client, error) {
	o, err := osclient.Parse(opts, osclient.Spec{})
	if err != nil {
		return nil, optionError(err)
	}
	sc, err := o.Connect(ctx, osclient.Service{Name: "Neutron", New: openstack.NewNetworkV2})
	if err != nil {
		var ke *osclient.KeystoneError
		if errors.As(err, &ke) && ke.MissingType == "" {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return nil, optionError(err)
	}
	// An endpoint that already names the version (a url or a catalog
	// entry ending in /v2.0) must not get a second one.
	if strings.HasSuffix(strings.TrimSuffix(sc.Endpoint, "/"), "/v2.0") {
		sc.ResourceBase = strings.TrimSuffix(sc.Endpoint, "/") + "/"
	}
	c := &Client{sc: sc, url: osclient.Redact(sc.Endpoint), log: log.Named("neutron")}
	authType := o.AuthType
	if o.Cloud != "" {
		authType = "cloud " + o.Cloud
	}
	c.log.Info("Neutron configured", "url", c.url, "auth", authType)
	return c, nil
}

// optionError names the option at fault as the configuration file does.
func optionError(err error) error {
	var oe *osclient.OptionError
	if errors.As(err, &oe) {
		return fmt.Errorf("[neutron] %s: %s", oe.Option, oe.Msg)
	}
	return fmt.Errorf("[neutron]: %w", err)
}

// classify turns a failed call into ErrUnavailable when Neutron could not
// answer it, or an error carrying Neutron's message. The caller's own
// deadline or cancellation stays what it is: that is not Neutron's fault.
func (c *Client) classify(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("neutron at %s: %s: %w", c.url, op, ctxErr)
	}
	var code gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &code) {
		// Refused, reset, timed out, or an answer that is not Neutron's.
		detail := err.Error()
		var ue *url.Error
		if errors.As(err, &ue) {
			detail = ue.Err.Error() // without the whole query URL
		}
		return fmt.Errorf("%w: Neutron at %s: %s: %s", ErrUnavailable, c.url, op, osclient.RedactText(detail))
	}
	_, message := neutronError(code.Body)
	msg := fmt.Sprintf("HTTP %d: %s", code.Actual, message)
	switch {
	// A 404 that is not Neutron's own "not found" is a url that does not
	// lead to Neutron.
	case code.Actual >= 500, code.Actual == 401, code.Actual == 403, code.Actual == 404:
		return fmt.Errorf("%w: Neutron at %s: %s: %s", ErrUnavailable, c.url, op, msg)
	default:
		return fmt.Errorf("neutron at %s: %s: %s", c.url, op, msg)
	}
}

// neutronError reads Neutron's error body, {"NeutronError": {"type":
// "PortNotFound", "message": …}}: its type ("" when the body is not
// Neutron's) and its message, or the body itself, shortened.
func neutronError(body []byte) (typ, message string) {
	var e struct {
		NeutronError struct{ Type, Message string } `json:"NeutronError"`
	}
	if json.Unmarshal(body, &e) == nil && e.NeutronError.Message != "" {
		return e.NeutronError.Type, e.NeutronError.Message
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return "", osclient.RedactText(s)
}
