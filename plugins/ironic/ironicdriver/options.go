package ironicdriver

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// DefaultAPIVersion is the Ironic microversion sent on every request unless
// [ironic] api_version says otherwise. 1.65 (Ironic 15.0, Ussuri) has
// everything the driver uses; Ironic 21.4 (2023.1 Antelope) speaks up to
// 1.82.
const DefaultAPIVersion = "1.65"

// minAPIVersion is the oldest microversion with every field the driver
// reads: resource_class (1.21), port internal_info (1.18), portgroups
// (1.23) and their mode (1.26).
var minAPIVersion = microversion{1, 26}

// Auth types, keystoneauth's names.
const (
	authNone      = "none"
	authHTTPBasic = "http_basic"
	authPassword  = "password"
)

const defaultTimeout = 60 * time.Second

// config is the parsed [ironic] section.
type config struct {
	URL               string // endpoint, normalized to end in /v1/
	AuthType          string
	Username          string
	Password          string
	AuthURL           string
	ProjectName       string
	UserDomainName    string
	ProjectDomainName string
	RegionName        string
	Cloud             string
	APIVersion        string
	Timeout           time.Duration
	RootCAs           *x509.CertPool // from cafile, read once here
	Insecure          bool
}

// optionSetters is every option the driver knows, by its config name.
var optionSetters = map[string]func(*config, string) error{
	"url": func(c *config, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%q is not an http(s) URL", v)
		}
		c.URL = endpointURL(v)
		return nil
	},
	"auth_type": func(c *config, v string) error {
		if !slices.Contains([]string{authNone, authHTTPBasic, authPassword}, v) {
			return fmt.Errorf("%q is not one of none, http_basic, password", v)
		}
		c.AuthType = v
		return nil
	},
	"username":            func(c *config, v string) error { c.Username = v; return nil },
	"password":            func(c *config, v string) error { c.Password = v; return nil },
	"auth_url":            func(c *config, v string) error { c.AuthURL = v; return nil },
	"project_name":        func(c *config, v string) error { c.ProjectName = v; return nil },
	"user_domain_name":    func(c *config, v string) error { c.UserDomainName = v; return nil },
	"project_domain_name": func(c *config, v string) error { c.ProjectDomainName = v; return nil },
	"region_name":         func(c *config, v string) error { c.RegionName = v; return nil },
	"cloud":               func(c *config, v string) error { c.Cloud = v; return nil },
	"api_version": func(c *config, v string) error {
		mv, err := parseMicroversion(v)
		if err != nil {
			return err
		}
		if mv.less(minAPIVersion) {
			return fmt.Errorf("%s is older than %s, the oldest the driver works with", v, minAPIVersion)
		}
		c.APIVersion = mv.String()
		return nil
	},
	"timeout": func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive number of seconds", v)
		}
		c.Timeout = time.Duration(n) * time.Second
		return nil
	},
	"cafile": func(c *config, v string) error {
		pem, err := os.ReadFile(v)
		if err != nil {
			return fmt.Errorf("cannot read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s holds no PEM certificate", v)
		}
		c.RootCAs = pool
		return nil
	},
	"insecure": func(c *config, v string) error {
		b, err := parseBool(v)
		c.Insecure = b
		return err
	},
}

// parseOptions turns the [ironic] section into a config, or an
// InvalidOption error naming the first bad option (in name order, so the
// message is stable).
func parseOptions(options map[string]string) (*config, error) {
	c := &config{APIVersion: DefaultAPIVersion, Timeout: defaultTimeout}
	names := make([]string, 0, len(options))
	for name := range options {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		set, ok := optionSetters[name]
		if !ok {
			return nil, driver.InvalidOption(name, "unknown option of the ironic driver (known: %s)", knownOptions())
		}
		if err := set(c, strings.TrimSpace(options[name])); err != nil {
			return nil, driver.InvalidOption(name, "%v", err)
		}
	}
	return c, c.check()
}

// check enforces the options each way of connecting needs.
func (c *config) check() error {
	if c.Cloud != "" {
		if c.AuthType != "" {
			return driver.InvalidOption("auth_type", "cannot be combined with cloud: the clouds.yaml entry says how to authenticate")
		}
		return nil
	}
	if c.AuthType == "" {
		c.AuthType = authNone
	}
	need := map[string][]string{
		authNone:      {"url"},
		authHTTPBasic: {"url", "username", "password"},
		authPassword:  {"auth_url", "username", "password"},
	}[c.AuthType]
	values := map[string]string{"url": c.URL, "username": c.Username, "password": c.Password, "auth_url": c.AuthURL}
	for _, name := range need {
		if values[name] == "" {
			if name == "url" && c.AuthType == authNone {
				return driver.InvalidOption("url", "is required (or cloud naming a clouds.yaml entry)")
			}
			return driver.InvalidOption(name, "is required with auth_type = %s", c.AuthType)
		}
	}
	return nil
}

func knownOptions() string {
	names := make([]string, 0, len(optionSetters))
	for name := range optionSetters {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// endpointURL makes an Ironic URL, with or without its /v1, the versioned
// endpoint gophercloud's baremetal requests are relative to.
func endpointURL(u string) string {
	u = strings.TrimRight(u, "/")
	if !strings.HasSuffix(u, "/v1") {
		u += "/v1"
	}
	return u + "/"
}

// parseBool reads oslo.config's booleans.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true or false)", v)
}

// microversion is an Ironic API version, major.minor.
type microversion struct{ major, minor int }

func parseMicroversion(v string) (microversion, error) {
	maj, mnr, ok := strings.Cut(v, ".")
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(mnr)
	if !ok || err1 != nil || err2 != nil || a != 1 || b < 0 {
		return microversion{}, fmt.Errorf("%q is not an Ironic microversion like %s", v, DefaultAPIVersion)
	}
	return microversion{a, b}, nil
}

func (m microversion) less(o microversion) bool {
	return m.major < o.major || (m.major == o.major && m.minor < o.minor)
}

func (m microversion) String() string { return fmt.Sprintf("%d.%d", m.major, m.minor) }
