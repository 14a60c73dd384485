package ironicdriver

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// newServiceClient connects to Ironic as cfg says. For password and cloud
// it authenticates with Keystone (and finds Ironic in the catalog unless
// url overrides it).
// Each request carries the request id of its context to Ironic and logs
// Ironic's own at debug level on log (osclient.Traced).
func newServiceClient(ctx context.Context, cfg *config, wrap func(http.RoundTripper) http.RoundTripper, log hclog.Logger) (*gophercloud.ServiceClient, error) {
	sc, err := cfg.Connect(ctx, osclient.Service{
		Name:   "ironic",
		Logger: log,
		// Its url ends in /v1/, so gophercloud adds no second version.
		New:           openstack.NewBareMetalV1,
		WrapTransport: wrap,
		// Nodes, ports and portgroups are fetched at once: keep a
		// connection for each.
		MaxIdleConnsPerHost: 8,
	})
	if err != nil {
		return nil, connectError(err)
	}
	sc.Microversion = cfg.APIVersion
	return sc, nil
}

// connectError turns osclient's errors into the SDK's kinds: an option at
// fault is InvalidOption, anything Keystone or Ironic answered (or did not)
// is Unavailable.
func connectError(err error) error {
	var oe *osclient.OptionError
	var ke *osclient.KeystoneError
	switch {
	case errors.As(err, &oe):
		return invalidOption(err)
	case errors.As(err, &ke) && ke.MissingType != "":
		return driver.Unavailable("%s", ke.Error())
	case errors.As(err, &ke):
		return classify(ke.Err, "keystone", ke.AuthURL)
	}
	return driver.Unavailable("%s", osclient.RedactText(err.Error()))
}

// describe names a service and its URL (without userinfo) for error
// messages.
func describe(service, url string) string {
	return fmt.Sprintf("%s at %s", service, osclient.Redact(url))
}
