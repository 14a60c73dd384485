package ironicdriver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// DefaultAPIVersion is the Ironic microversion sent on every request unless
// [ironic] api_version says otherwise. 1.65 (Ironic 15.0, Ussuri) has
// everything the driver uses, a node's lessee (1.65) the newest; Ironic
// 21.4 (2023.1 Antelope, Debian 12's) speaks up to 1.82.
const DefaultAPIVersion = "1.65"

// minAPIVersion is the oldest microversion with every field the driver
// reads and every field the interlock writes: resource_class (1.21), port
// internal_info (1.18), portgroups (1.23) and their mode (1.26),
// automated_clean (1.47) and protected (1.48). Enrolling a machine with an
// owner needs 1.50, with a lessee 1.65 (enrollVersion).
var minAPIVersion = microversion{1, 48}

const defaultTimeout = 60 * time.Second

// config is the parsed [ironic] section: the options every OpenStack
// client shares, and Ironic's microversion.
type config struct {
	*osclient.Options
	APIVersion string
}

// parseOptions turns the [ironic] section into a config, or an
// InvalidOption error naming the first bad option (in name order, so the
// message is stable).
func parseOptions(options map[string]string) (*config, error) {
	c := &config{APIVersion: DefaultAPIVersion}
	o, err := osclient.Parse(options, spec(map[string]func(string) error{"api_version": c.setAPIVersion}))
	if err != nil {
		return nil, invalidOption(err)
	}
	c.Options = o
	return c, nil
}

// spec is how osclient reads the [ironic] section; extra sets the
// driver's own options.
func spec(extra map[string]func(string) error) osclient.Spec {
	return osclient.Spec{
		Extra:          extra,
		NormalizeURL:   endpointURL,
		DefaultTimeout: defaultTimeout,
		Owner:          "the ironic driver",
	}
}

// ownOptions describes the options the driver reads beyond osclient's
// (parseOptions' Extra).
var ownOptions = []driver.ConfigOption{{
	Name:    "api_version",
	Default: DefaultAPIVersion,
	Help: "Ironic API microversion sent on every request (X-OpenStack-Ironic-API-Version); at least " +
		minAPIVersion.String() + ", the oldest with every field the driver reads and the interlock writes " +
		"(enrolling a machine with an owner needs 1.50, with a lessee 1.65).",
}}

// ConfigSchema describes the [ironic] section: where Ironic is and how to
// authenticate (the options every OpenStack client of mogan-manage
// shares), and the microversion.
func (d *Driver) ConfigSchema(context.Context) ([]driver.ConfigOption, error) {
	return Schema(), nil
}

// Schema is the [ironic] section's description (ConfigSchema), also for
// generating the sample configuration in-process.
func Schema() []driver.ConfigOption {
	return osclient.Describe(spec(nil), ownOptions...)
}

func (c *config) setAPIVersion(v string) error {
	mv, err := parseMicroversion(v)
	if err != nil {
		return err
	}
	if mv.less(minAPIVersion) {
		return fmt.Errorf("%s is older than %s, the oldest the driver works with", v, minAPIVersion)
	}
	c.APIVersion = mv.String()
	return nil
}

// invalidOption turns osclient's option errors into the SDK's, which cross
// the plugin boundary with the option named.
func invalidOption(err error) error {
	var oe *osclient.OptionError
	if errors.As(err, &oe) {
		return driver.InvalidOption(oe.Option, "%s", oe.Msg)
	}
	return err
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
