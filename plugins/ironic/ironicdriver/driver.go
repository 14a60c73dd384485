package ironicdriver

import (
	"context"
	"net/http"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// Name and Version identify the driver.
const (
	Name    = "ironic"
	Version = "1.0.0"
)

// Driver talks to one Ironic.
type Driver struct {
	log hclog.Logger
	// wrapTransport, when set (by tests), wraps the HTTP transport, e.g. to
	// count upstream requests.
	wrapTransport func(http.RoundTripper) http.RoundTripper
	// lockRetry is defaultLockRetry unless a test shortens it after newDriver.
	lockRetry lockRetry
	// cursors remember where paged listings stopped (resume.go).
	cursors *cursors

	mu     sync.Mutex
	cfg    *config
	client *gophercloud.ServiceClient // made on first use, after Configure

	// neutronLink reaches the Neutron of Ironic's cloud (neutron.go).
	neutronLink neutronLink
}

// The capabilities it has: all of them.
var (
	_ driver.Discoverer  = (*Driver)(nil)
	_ driver.Adopter     = (*Driver)(nil)
	_ driver.StateReader = (*Driver)(nil)
	_ driver.Enroller    = (*Driver)(nil)
	_ driver.Exporter    = (*Driver)(nil)
	_ driver.Releaser    = (*Driver)(nil)
)

// New returns an unconfigured Ironic driver.
func New(log hclog.Logger) driver.Driver { return newDriver(log) }

func newDriver(log hclog.Logger) *Driver {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Driver{log: log, lockRetry: defaultLockRetry, cursors: newCursors()}
}

// Info names the driver.
func (d *Driver) Info(context.Context) (driver.Info, error) {
	return driver.Info{Name: Name, Version: Version}, nil
}

// Configure checks the [ironic] options and keeps them; the connection
// (and Keystone authentication) is made on first use, so that a Keystone or
// Ironic that is down at start does not keep the driver from starting.
func (d *Driver) Configure(_ context.Context, options map[string]string) error {
	cfg, err := parseOptions(options)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cfg, d.client = cfg, nil
	d.log.Info("configured", "url", osclient.Redact(cfg.URL), "cloud", cfg.Cloud, "auth_type", cfg.AuthType, "api_version", cfg.APIVersion)
	return nil
}

// serviceClient returns the Ironic client, connecting on first use.
func (d *Driver) serviceClient(ctx context.Context) (*gophercloud.ServiceClient, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cfg == nil {
		return nil, driver.InvalidArgument("the ironic driver is not configured: set [ironic] url or cloud")
	}
	if d.client == nil {
		c, err := newServiceClient(ctx, d.cfg, d.wrapTransport, d.log)
		if err != nil {
			return nil, err
		}
		d.client = c
	}
	return d.client, nil
}
