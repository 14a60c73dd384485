package osclient

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/hashicorp/go-hclog"
)

// Service is the OpenStack service Connect makes a client for.
type Service struct {
	// Name names the service in messages, e.g. "Glance".
	Name string
	// New is gophercloud's constructor of the service's client, e.g.
	// openstack.NewImageV2, NewNetworkV2 or NewBareMetalV1. It finds its
	// endpoint through the provider's EndpointLocator, which Connect points
	// at url when it is set and at the Keystone catalog otherwise.
	New func(*gophercloud.ProviderClient, gophercloud.EndpointOpts) (*gophercloud.ServiceClient, error)
	// Version is the path segment New adds to the endpoint ("v2" for
	// Glance, "v2.0" for Neutron): an endpoint that already ends in it (a
	// url or catalog entry ending in /v2) is used as it is instead of
	// getting a second one. "" keeps what New does.
	Version string
	// Unavailable is the sentinel that Lazy's errors about the service
	// being unavailable are (errors.Is): the client package's own.
	Unavailable error
	// ErrorMessage, when set, returns the service's own message in an
	// error body, or "" when the body is not the service's; Lazy.Classify
	// shows the body itself, shortened, then.
	ErrorMessage func(body []byte) string
	// WrapTransport, when set, wraps the HTTP transport (tests count
	// requests with it).
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// Logger receives a debug line per request with the service's own
	// request id (Traced); nil logs nothing. Open sets it to its logger.
	Logger hclog.Logger
	// Observe, when set, is told of every request (Traced).
	Observe Observer
	// MaxIdleConnsPerHost is how many idle connections to keep per host;
	// zero is net/http's default (2).
	MaxIdleConnsPerHost int
}

// KeystoneError is Keystone refusing, failing or not answering the
// authentication, or a catalog without the service.
type KeystoneError struct {
	// AuthURL is the identity endpoint, without userinfo.
	AuthURL string
	// MissingType is the service type the catalog lacks, or "" when
	// authentication itself failed.
	MissingType string
	// Err is gophercloud's error (e.g. gophercloud.ErrUnexpectedResponseCode
	// with Keystone's answer, or a *url.Error).
	Err error
}

func (e *KeystoneError) Error() string {
	if e.MissingType != "" {
		return fmt.Sprintf("no %s endpoint in the Keystone catalog of %s: %s", e.MissingType, e.AuthURL, RedactText(e.Err.Error()))
	}
	return fmt.Sprintf("Keystone at %s: %s", e.AuthURL, RedactText(e.Err.Error()))
}

func (e *KeystoneError) Unwrap() error { return e.Err }

// redacted is an error whose text goes through RedactText.
type redacted struct{ err error }

func (r *redacted) Error() string { return RedactText(r.err.Error()) }
func (r *redacted) Unwrap() error { return r.err }

// Connect returns a client of svc as o says. With password or cloud it
// authenticates with Keystone first (gophercloud re-authenticates when the
// token expires) and finds the endpoint in the catalog unless url is set.
//
// Errors: *OptionError when an option is at fault (an auth_url gophercloud
// refuses, a clouds.yaml entry that is missing or incomplete),
// *KeystoneError, or an error from the service's version discovery (its
// endpoint from the catalog failing or unreachable; gophercloud's error is
// wrapped).
func (o *Options) Connect(ctx context.Context, svc Service) (*gophercloud.ServiceClient, error) {
	ao := gophercloud.AuthOptions{
		IdentityEndpoint: o.AuthURL,
		Username:         o.Username,
		Password:         o.Password,
		DomainName:       o.UserDomainName,
		DomainID:         o.UserDomainID,
		TenantName:       o.ProjectName,
		AllowReauth:      true,
	}
	if o.ProjectName != "" {
		ao.Scope = &gophercloud.AuthScope{ProjectName: o.ProjectName, DomainName: o.ProjectDomainName, DomainID: o.ProjectDomainID}
	}
	eo := gophercloud.EndpointOpts{Region: o.RegionName}
	authType := o.AuthType
	var cloudTLS *tls.Config
	if o.Cloud != "" {
		opts := []clouds.ParseOption{clouds.WithCloudName(o.Cloud)}
		if o.RegionName != "" {
			opts = append(opts, clouds.WithRegion(o.RegionName))
		}
		var err error
		ao, eo, cloudTLS, err = clouds.Parse(opts...)
		if err != nil {
			return nil, optionError("cloud", "%v", err)
		}
		if ao.IdentityEndpoint == "" {
			return nil, optionError("cloud", "clouds.yaml entry %q has no auth.auth_url", o.Cloud)
		}
		ao.AllowReauth = true
		authType = AuthPassword
	}
	hc := o.httpClient(cloudTLS, svc, ao.IdentityEndpoint)

	var pc *gophercloud.ProviderClient
	if authType == AuthPassword {
		var err error
		pc, err = openstack.NewClient(ao.IdentityEndpoint)
		if err != nil {
			return nil, optionError("auth_url", "%v", err)
		}
		pc.HTTPClient = *hc
		if err := openstack.Authenticate(ctx, pc, ao); err != nil {
			return nil, &KeystoneError{AuthURL: Redact(ao.IdentityEndpoint), Err: err}
		}
	} else {
		pc = &gophercloud.ProviderClient{HTTPClient: *hc}
	}
	catalog := pc.EndpointLocator
	var missing string
	pc.EndpointLocator = func(eo gophercloud.EndpointOpts) (string, error) {
		if o.URL != "" {
			return o.URL, nil
		}
		if catalog == nil {
			return "", fmt.Errorf("no url, and no Keystone catalog with auth_type = %s", authType)
		}
		u, err := catalog(eo)
		var notFound *gophercloud.ErrEndpointNotFound
		if errors.As(err, &notFound) {
			missing = eo.Type
		}
		return u, err
	}
	sc, err := svc.New(pc, eo)
	switch {
	case err != nil && missing != "":
		return nil, &KeystoneError{AuthURL: Redact(ao.IdentityEndpoint), MissingType: missing, Err: err}
	case err != nil:
		// gophercloud asks the catalog's endpoint which versions it
		// serves: this is the service itself failing or unreachable.
		return nil, &redacted{fmt.Errorf("%s, found in the Keystone catalog of %s: %w", svc.Name, Redact(ao.IdentityEndpoint), err)}
	}
	if svc.Version != "" {
		if base := strings.TrimSuffix(sc.Endpoint, "/"); strings.HasSuffix(base, "/"+svc.Version) {
			sc.ResourceBase = base + "/"
		}
	}
	if authType == AuthHTTPBasic {
		// As gophercloud's baremetal httpbasic client: a header on every
		// request of this service client.
		token := base64.StdEncoding.EncodeToString([]byte(o.Username + ":" + o.Password))
		sc.MoreHeaders = map[string]string{"Authorization": "Basic " + token}
	}
	return sc, nil
}

// httpClient applies timeout and TLS options. cloudTLS comes from a
// clouds.yaml entry; cafile and insecure override it.
// Every request goes through Traced: it carries the request id of its
// context to the service.
func (o *Options) httpClient(cloudTLS *tls.Config, svc Service, identity string) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if svc.MaxIdleConnsPerHost > 0 {
		transport.MaxIdleConnsPerHost = svc.MaxIdleConnsPerHost
	}
	tlsConfig := cloudTLS
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if o.RootCAs != nil {
		tlsConfig.RootCAs = o.RootCAs
	}
	if o.Insecure {
		tlsConfig.InsecureSkipVerify = true //nolint:gosec // the operator asked for it with insecure = true.
	}
	transport.TLSClientConfig = tlsConfig
	var rt http.RoundTripper = transport
	if svc.WrapTransport != nil {
		rt = svc.WrapTransport(rt)
	}
	rt = Traced(rt, svc.Name, identity, svc.Logger, svc.Observe)
	return &http.Client{Transport: rt, Timeout: o.Timeout}
}
