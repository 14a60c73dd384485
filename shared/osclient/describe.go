package osclient

import (
	"strconv"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// sharedHelp describes every option Parse knows itself, in the order a
// sample configuration shows them. A test ties it to sharedOptions, so an
// option cannot be added without its help.
var sharedHelp = []driver.ConfigOption{
	{Name: "url", Help: "Endpoint of the service. Needed with auth_type none or http_basic; with password (or cloud) the endpoint comes from the Keystone catalog unless this is set. The user and password of a URL are never logged."},
	{Name: "cloud", Help: "A clouds.yaml entry (found as the OpenStack clients find it, OS_CLIENT_CONFIG_FILE first) naming the cloud, its credentials and region, instead of the options below."},
	{Name: "auth_type", Type: driver.OptionChoice, Default: AuthNone, Choices: []string{AuthNone, AuthHTTPBasic, AuthPassword},
		Help: "How to authenticate: none, http_basic (username and password on each request) or password (a Keystone token, keystoneauth's password plugin). Not with cloud."},
	{Name: "auth_url", Help: "Keystone's URL, e.g. http://keystone:5000/v3 (auth_type password)."},
	{Name: "username", Help: "User name (auth_type http_basic or password)."},
	{Name: "password", Secret: true, Help: "Password of username (auth_type http_basic or password)."},
	{Name: "project_name", Help: "Project to scope the Keystone token to (auth_type password)."},
	{Name: "user_domain_name", Help: "Domain of the user, e.g. Default. Required with auth_type password: keystoneauth has no default domain."},
	{Name: "user_domain_id", Help: "Domain of the user by id, e.g. default, instead of user_domain_name."},
	{Name: "project_domain_name", Help: "Domain of the project, e.g. Default. Required with project_name: keystoneauth has no default domain."},
	{Name: "project_domain_id", Help: "Domain of the project by id, instead of project_domain_name."},
	{Name: "region_name", Help: "Region of the endpoint picked from the Keystone catalog."},
	{Name: "cafile", Help: "PEM bundle of the certificate authorities to trust for https, instead of the system's."},
	{Name: "insecure", Type: driver.OptionBoolean, Default: "false", Help: "Skip the verification of the service's TLS certificate (testing only)."},
	{Name: "timeout", Type: driver.OptionInteger, Help: "Seconds each request may take before it fails."},
}

// Describe describes the options of a section Parse reads with spec: the
// shared ones, with spec's default timeout, then extra (the section's own
// options, which the caller describes). It is what a driver returns from
// ConfigSchema.
func Describe(spec Spec, extra ...driver.ConfigOption) []driver.ConfigOption {
	timeout := spec.DefaultTimeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	out := make([]driver.ConfigOption, 0, len(sharedHelp)+len(extra))
	for _, o := range sharedHelp {
		if o.Name == "timeout" {
			o.Default = strconv.Itoa(int(timeout / time.Second))
		}
		out = append(out, o)
	}
	return append(out, extra...)
}
