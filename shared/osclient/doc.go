// Package osclient connects to an OpenStack service (Glance, Neutron,
// Ironic, …) from a keystoneauth-style configuration section, the way
// oslo.config services spell it:
//
//	[glance]
//	url = http://glance.example.com:9292      ; auth_type none or http_basic
//	auth_type = password                      ; none (default), http_basic, password
//	auth_url = http://keystone:5000/v3
//	username = mogan
//	password = secret
//	project_name = service
//	user_domain_name = Default
//	project_domain_name = Default
//	region_name = RegionOne
//	cloud = mycloud                           ; or: a clouds.yaml entry instead of the above
//	timeout = 60                              ; seconds
//	cafile = /etc/ssl/ca.pem
//	insecure = false
//
// With password (or cloud) the service is found in the Keystone catalog by
// its type ("image", "network", "baremetal"); url, when set, overrides the
// catalog's endpoint.
//
// Parse checks the section and names the option at fault (*OptionError);
// a service's own options (Ironic's api_version) come in through
// Spec.Extra. Connect then authenticates and returns a gophercloud
// ServiceClient; pass gophercloud's constructor for the service:
//
//	opts, err := osclient.Parse(section, osclient.Spec{})
//	if err != nil {
//		var oe *osclient.OptionError
//		if errors.As(err, &oe) {
//			return fmt.Errorf("[neutron] %s: %s", oe.Option, oe.Msg)
//		}
//		return err
//	}
//	sc, err := opts.Connect(ctx, osclient.Service{Name: "Neutron", New: openstack.NewNetworkV2})
//	// err: *OptionError (e.g. an auth_url that is no URL), *KeystoneError
//	// (Keystone refused, failed, unreachable, or no endpoint in its
//	// catalog), or the constructor's error.
//
// A process that must start while Keystone or the service is down (the
// host's Glance and Neutron clients) uses Open instead: it parses the
// section, refusing a bad option as "[section] <option>: …", connects
// when it can (at start, or at the first use after an outage), and its
// Classify turns a failed request into the client package's own
// ErrUnavailable ("Neutron at <url> is unavailable: port lookup: …") or a
// refusal carrying the service's message:
//
//	l, err := osclient.Open(ctx, "neutron", section, osclient.Spec{}, osclient.Service{
//		Name: "Neutron", New: openstack.NewNetworkV2, Version: "v2.0", Unavailable: ErrUnavailable,
//	}, log)
//	…
//	sc, err := l.Client(ctx, "port lookup")
//	…
//	if err := call(sc); err != nil {
//		return l.Classify(ctx, "port lookup", err)
//	}
//
// No URL this package puts in an error or hands out for logging carries
// userinfo: use Redact (and RedactText for foreign error text) likewise.
package osclient
