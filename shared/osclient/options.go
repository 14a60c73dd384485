package osclient

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Auth types, keystoneauth's names.
const (
	AuthNone      = "none"
	AuthHTTPBasic = "http_basic"
	AuthPassword  = "password"
)

// DefaultTimeout is the HTTP timeout when neither the section nor the Spec
// sets one.
const DefaultTimeout = 60 * time.Second

// MaxTimeoutSeconds bounds the timeout option, as the host bounds every
// duration: a larger value overflowed into a few seconds.
const MaxTimeoutSeconds = 86400

// Options is a parsed section.
type Options struct {
	URL               string // endpoint, normalized by Spec.NormalizeURL; "" = from the catalog
	AuthType          string // AuthNone, AuthHTTPBasic or AuthPassword; "" with Cloud
	Username          string
	Password          string
	AuthURL           string
	ProjectName       string
	UserDomainName    string
	UserDomainID      string // instead of UserDomainName (keystoneauth's user_domain_id)
	ProjectDomainName string
	ProjectDomainID   string // instead of ProjectDomainName
	RegionName        string
	Cloud             string // a clouds.yaml entry
	Timeout           time.Duration
	RootCAs           *x509.CertPool // from cafile, read once by Parse
	Insecure          bool
}

// Spec says what a section holds beyond the shared options.
type Spec struct {
	// Extra are the section's own options by name (Ironic's api_version),
	// each given the trimmed value; an error names the option.
	Extra map[string]func(value string) error
	// NormalizeURL rewrites a valid url option before it is kept (Ironic
	// adds its /v1/). nil: a trailing slash is added, as gophercloud
	// endpoints have.
	NormalizeURL func(string) string
	// DefaultTimeout applies when timeout is not set; zero: DefaultTimeout.
	DefaultTimeout time.Duration
	// Owner names whose options these are in the message about an unknown
	// option ("the ironic driver"); "" leaves it out.
	Owner string
}

// OptionError is an option Parse (or Connect) refuses.
type OptionError struct {
	Option string
	Msg    string
}

func (e *OptionError) Error() string { return fmt.Sprintf("option %q: %s", e.Option, e.Msg) }

func optionError(option, format string, args ...any) *OptionError {
	return &OptionError{Option: option, Msg: RedactText(fmt.Sprintf(format, args...))}
}

type setter func(*Options, string) error

// sharedOptions is every option Parse knows itself, by its config name.
var sharedOptions = map[string]setter{
	"url": func(o *Options, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%q is not an http(s) URL", v)
		}
		o.URL = v
		return nil
	},
	"auth_type": func(o *Options, v string) error {
		if !slices.Contains([]string{AuthNone, AuthHTTPBasic, AuthPassword}, v) {
			return fmt.Errorf("%q is not one of none, http_basic, password", v)
		}
		o.AuthType = v
		return nil
	},
	"username":            func(o *Options, v string) error { o.Username = v; return nil },
	"password":            func(o *Options, v string) error { o.Password = v; return nil },
	"auth_url":            func(o *Options, v string) error { o.AuthURL = v; return nil },
	"project_name":        func(o *Options, v string) error { o.ProjectName = v; return nil },
	"user_domain_name":    func(o *Options, v string) error { o.UserDomainName = v; return nil },
	"project_domain_name": func(o *Options, v string) error { o.ProjectDomainName = v; return nil },
	"user_domain_id":      func(o *Options, v string) error { o.UserDomainID = v; return nil },
	"project_domain_id":   func(o *Options, v string) error { o.ProjectDomainID = v; return nil },
	"region_name":         func(o *Options, v string) error { o.RegionName = v; return nil },
	"cloud":               func(o *Options, v string) error { o.Cloud = v; return nil },
	"timeout": func(o *Options, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive number of seconds", v)
		}
		if n > MaxTimeoutSeconds {
			return fmt.Errorf("%q is out of range: a timeout is at most %d seconds (1 day)", v, MaxTimeoutSeconds)
		}
		o.Timeout = time.Duration(n) * time.Second
		return nil
	},
	"cafile": func(o *Options, v string) error {
		pem, err := os.ReadFile(v)
		if err != nil {
			return fmt.Errorf("cannot read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s holds no PEM certificate", v)
		}
		o.RootCAs = pool
		return nil
	},
	"insecure": func(o *Options, v string) error {
		b, err := ParseBool(v)
		o.Insecure = b
		return err
	},
}

// Parse turns a section into Options, or an *OptionError naming the first
// bad option (in name order, so the message is stable), then checks that
// the options of the chosen way of connecting are all there.
func Parse(section map[string]string, spec Spec) (*Options, error) {
	o := &Options{Timeout: spec.DefaultTimeout}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	names := make([]string, 0, len(section))
	for name := range section {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		value := strings.TrimSpace(section[name])
		var err error
		if set, ok := sharedOptions[name]; ok {
			err = set(o, value)
		} else if set, ok := spec.Extra[name]; ok {
			err = set(value)
		} else {
			owner := ""
			if spec.Owner != "" {
				owner = " of " + spec.Owner
			}
			return nil, optionError(name, "unknown option%s (known: %s)", owner, strings.Join(spec.known(), ", "))
		}
		if err != nil {
			return nil, optionError(name, "%v", err)
		}
	}
	if o.URL != "" {
		if spec.NormalizeURL != nil {
			o.URL = spec.NormalizeURL(o.URL)
		} else if !strings.HasSuffix(o.URL, "/") {
			o.URL += "/"
		}
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	return o, nil
}

// check enforces the options each way of connecting needs.
func (o *Options) check() error {
	if o.Cloud != "" {
		if o.AuthType != "" {
			return optionError("auth_type", "cannot be combined with cloud: the clouds.yaml entry says how to authenticate")
		}
		return nil
	}
	if o.AuthType == "" {
		o.AuthType = AuthNone
	}
	need := map[string][]string{
		AuthNone:      {"url"},
		AuthHTTPBasic: {"url", "username", "password"},
		AuthPassword:  {"auth_url", "username", "password"},
	}[o.AuthType]
	values := map[string]string{"url": o.URL, "username": o.Username, "password": o.Password, "auth_url": o.AuthURL}
	for _, name := range need {
		if values[name] == "" {
			if name == "url" && o.AuthType == AuthNone {
				return optionError("url", "is required (or cloud naming a clouds.yaml entry)")
			}
			return optionError(name, "is required with auth_type = %s", o.AuthType)
		}
	}
	// A domain by name or by id, as keystoneauth: never both.
	if o.UserDomainName != "" && o.UserDomainID != "" {
		return optionError("user_domain_id", "cannot be combined with user_domain_name: set one of them")
	}
	if o.ProjectDomainName != "" && o.ProjectDomainID != "" {
		return optionError("project_domain_id", "cannot be combined with project_domain_name: set one of them")
	}
	if o.AuthType == AuthPassword {
		// keystoneauth has no default domain: without these Keystone
		// refuses at the first request. Refused here, at start instead.
		if o.UserDomainName == "" && o.UserDomainID == "" {
			return optionError("user_domain_name", "is required with auth_type = password (keystoneauth has no default domain): set it to the user's domain, e.g. user_domain_name = Default (or user_domain_id)")
		}
		if o.ProjectName != "" && o.ProjectDomainName == "" && o.ProjectDomainID == "" {
			return optionError("project_domain_name", "is required with project_name (keystoneauth has no default domain): set it to the project's domain, e.g. project_domain_name = Default (or project_domain_id)")
		}
	}
	return nil
}

// known lists every option of the section, sorted.
func (s Spec) known() []string {
	names := make([]string, 0, len(sharedOptions)+len(s.Extra))
	for name := range sharedOptions {
		names = append(names, name)
	}
	for name := range s.Extra {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// ParseBool reads oslo.config's booleans.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true or false)", v)
}
