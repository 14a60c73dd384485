package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// ServiceType is the Keystone catalog type of the Mogan API (upstream
// Mogan registers itself as baremetal_compute).
const ServiceType = "baremetal_compute"

// Options say how to reach and authenticate to the API.
type Options struct {
	// URL is the API's endpoint. With Cloud it overrides the catalog's.
	URL string
	// Cloud is a clouds.yaml entry: a Keystone token, and the endpoint
	// from the catalog's baremetal_compute service unless URL is set.
	Cloud string
	// Username and Password: http_basic (with URL). No Username: noauth.
	Username string
	Password string
	// Timeout bounds each request; zero means none.
	Timeout time.Duration
	// Transport, when set, replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// Connect returns a client as o says. With Cloud it authenticates with
// Keystone first.
func Connect(ctx context.Context, o Options) (*Client, error) {
	if o.Cloud == "" {
		if o.URL == "" {
			return nil, errors.New("no API to talk to: give --os-cloud (or OS_CLOUD) or --url (or MOGAN_URL)")
		}
		hc := &http.Client{Timeout: o.Timeout, Transport: o.Transport}
		if o.Username != "" {
			return newClient(o.URL, hc, basicAuth{user: o.Username, password: o.Password}), nil
		}
		return newClient(o.URL, hc, nil), nil
	}
	opts := osclient.Options{Cloud: o.Cloud, URL: o.URL, Timeout: o.Timeout}
	if opts.URL != "" && !strings.HasSuffix(opts.URL, "/") {
		opts.URL += "/"
	}
	sc, err := opts.Connect(ctx, osclient.Service{
		Name: "Mogan",
		New: func(pc *gophercloud.ProviderClient, eo gophercloud.EndpointOpts) (*gophercloud.ServiceClient, error) {
			eo.ApplyDefaults(ServiceType)
			endpoint, err := pc.EndpointLocator(eo)
			if err != nil {
				return nil, err
			}
			return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: endpoint, Type: ServiceType}, nil
		},
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
			if o.Transport != nil {
				return o.Transport
			}
			return rt
		},
	})
	if err != nil {
		return nil, fmt.Errorf("cloud %q: %w", o.Cloud, err)
	}
	pc := sc.ProviderClient
	hc := pc.HTTPClient
	return newClient(sc.Endpoint, &hc, keystoneAuth{pc: pc}), nil
}

type noAuth struct{}

func (noAuth) authorize(*http.Request)                    {}
func (noAuth) reauth(context.Context, *http.Request) bool { return false }

type basicAuth struct{ user, password string }

func (b basicAuth) authorize(req *http.Request)              { req.SetBasicAuth(b.user, b.password) }
func (basicAuth) reauth(context.Context, *http.Request) bool { return false }

// keystoneAuth sends the provider's token; gophercloud renews it.
type keystoneAuth struct{ pc *gophercloud.ProviderClient }

func (k keystoneAuth) authorize(req *http.Request) { req.Header.Set("X-Auth-Token", k.pc.Token()) }

func (k keystoneAuth) reauth(ctx context.Context, req *http.Request) bool {
	return k.pc.Reauthenticate(ctx, req.Header.Get("X-Auth-Token")) == nil
}
