package ironicdriver

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/httpbasic"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/noauth"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// newServiceClient connects to Ironic as cfg says. For password and cloud
// it authenticates with Keystone (and finds Ironic in the catalog unless
// url overrides it).
func newServiceClient(ctx context.Context, cfg *config, wrap func(http.RoundTripper) http.RoundTripper) (*gophercloud.ServiceClient, error) {
	var tlsConfig *tls.Config
	ao := gophercloud.AuthOptions{
		IdentityEndpoint: cfg.AuthURL,
		Username:         cfg.Username,
		Password:         cfg.Password,
		DomainName:       cfg.UserDomainName,
		TenantName:       cfg.ProjectName,
		AllowReauth:      true,
	}
	if cfg.ProjectName != "" {
		ao.Scope = &gophercloud.AuthScope{ProjectName: cfg.ProjectName, DomainName: cfg.ProjectDomainName}
	}
	eo := gophercloud.EndpointOpts{Region: cfg.RegionName}
	authType := cfg.AuthType
	if cfg.Cloud != "" {
		opts := []clouds.ParseOption{clouds.WithCloudName(cfg.Cloud)}
		if cfg.RegionName != "" {
			opts = append(opts, clouds.WithRegion(cfg.RegionName))
		}
		var err error
		ao, eo, tlsConfig, err = clouds.Parse(opts...)
		if err != nil {
			return nil, driver.InvalidOption("cloud", "%v", err)
		}
		if ao.IdentityEndpoint == "" {
			return nil, driver.InvalidOption("cloud", "clouds.yaml entry %q has no auth.auth_url", cfg.Cloud)
		}
		ao.AllowReauth = true
		authType = authPassword
	}
	hc := httpClient(cfg, tlsConfig, wrap)
	var sc *gophercloud.ServiceClient
	var err error
	switch authType {
	case authNone:
		sc, err = noauth.NewBareMetalNoAuth(noauth.EndpointOpts{IronicEndpoint: cfg.URL})
	case authHTTPBasic:
		sc, err = httpbasic.NewBareMetalHTTPBasic(httpbasic.EndpointOpts{
			IronicEndpoint: cfg.URL, IronicUser: cfg.Username, IronicUserPassword: cfg.Password,
		})
	case authPassword:
		sc, err = keystoneClient(ctx, ao, eo, hc)
		if err == nil && cfg.URL != "" {
			sc.Endpoint = cfg.URL
		}
	}
	if err != nil {
		return nil, err
	}
	sc.HTTPClient = *hc
	sc.Microversion = cfg.APIVersion
	return sc, nil
}

func keystoneClient(ctx context.Context, ao gophercloud.AuthOptions, eo gophercloud.EndpointOpts, hc *http.Client) (*gophercloud.ServiceClient, error) {
	pc, err := openstack.NewClient(ao.IdentityEndpoint)
	if err != nil {
		return nil, driver.InvalidOption("auth_url", "%v", err)
	}
	pc.HTTPClient = *hc
	if err := openstack.Authenticate(ctx, pc, ao); err != nil {
		return nil, classify(err, "keystone", ao.IdentityEndpoint)
	}
	sc, err := openstack.NewBareMetalV1(pc, eo)
	if err != nil {
		return nil, driver.Unavailable("no baremetal endpoint in the Keystone catalog of %s: %v", ao.IdentityEndpoint, err)
	}
	return sc, nil
}

// httpClient applies timeout and TLS options. cloudTLS comes from a
// clouds.yaml entry; cafile and insecure override it.
func httpClient(cfg *config, cloudTLS *tls.Config, wrap func(http.RoundTripper) http.RoundTripper) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Nodes, ports and portgroups are fetched at once: keep a connection
	// for each.
	transport.MaxIdleConnsPerHost = 8
	tlsConfig := cloudTLS
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if cfg.RootCAs != nil {
		tlsConfig.RootCAs = cfg.RootCAs
	}
	if cfg.Insecure {
		tlsConfig.InsecureSkipVerify = true //nolint:gosec // the operator asked for it with [ironic] insecure.
	}
	transport.TLSClientConfig = tlsConfig
	var rt http.RoundTripper = transport
	if wrap != nil {
		rt = wrap(rt)
	}
	return &http.Client{Transport: rt, Timeout: cfg.Timeout}
}

// describe names a service and its URL for error messages.
func describe(service, url string) string { return fmt.Sprintf("%s at %s", service, url) }
