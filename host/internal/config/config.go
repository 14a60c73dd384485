package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/ini.v1"
)

// Config is mogan-api's whole configuration, defaults applied.
type Config struct {
	// File is the configuration file it was read from ("" for none).
	File string

	AuthStrategy          string // keystone | http_basic | noauth
	HTTPBasicAuthUserFile string
	StatePath             string
	Host                  string // this host's name, for notifications' publisher_id
	Debug                 bool
	TransportURL          string
	ControlExchange       string
	// ClientSocketTimeout closes a keep-alive connection idle this long
	// and a client that stops sending its request this long; 0 = never.
	ClientSocketTimeout time.Duration

	// Backends are the enabled backends in order, never empty: without
	// [DEFAULT] enabled_backends, the one [driver] name implies (named
	// after it, configured from its section, [driver] sha256 and
	// call_timeout) — every older configuration means that.
	Backends []Backend
	// BackendsListed is true when [DEFAULT] enabled_backends is set.
	BackendsListed bool

	API      API
	Database Database
	// Driver is [driver]: its plugin_dir is every backend's. Its Name,
	// SHA256, CallTimeout and Options describe the first backend (the
	// only one without enabled_backends), for code that knows one.
	Driver    Driver
	Keystone  Keystone
	Policy    Policy
	Notifier  Notifier
	Glance    Service
	Neutron   Service
	Manage    Manage
	Migration Migration
	Quota     Quota
	authIsSet bool
	hostIsSet bool
	// driverCallTimeout is [driver] call_timeout itself (Driver's is the
	// first backend's).
	driverCallTimeout time.Duration
}

// API is the [api] section.
type API struct {
	HostIP string
	Port   int
	// PublicEndpoint is the base URL used in links; empty means "as the
	// request came in".
	PublicEndpoint string
	// MaxConnections bounds the connections served at once (more wait in
	// the kernel's backlog); 0 = no bound.
	MaxConnections int
	// MetricsEnabled serves /metrics: on the API's listener, or on
	// MetricsHostIP:MetricsPort when MetricsPort is set.
	MetricsEnabled bool
	MetricsHostIP  string
	// MetricsPort is 0 when /metrics is on the API's port.
	MetricsPort int
}

// MetricsAddr is the address of the metrics listener of its own, "" when
// /metrics is on the API's port (or off).
func (a API) MetricsAddr() string {
	if !a.MetricsEnabled || a.MetricsPort == 0 {
		return ""
	}
	host := a.MetricsHostIP
	if host == "" {
		host = a.HostIP
	}
	return net.JoinHostPort(host, strconv.Itoa(a.MetricsPort))
}

// Addr is host_ip:port.
func (a API) Addr() string { return net.JoinHostPort(a.HostIP, strconv.Itoa(a.Port)) }

// Database is the [database] section.
type Database struct {
	Connection string
}

// Driver is the [driver] section plus the first backend (without
// enabled_backends, the driver's own section).
type Driver struct {
	Name        string
	PluginDir   string
	CallTimeout time.Duration
	SHA256      string
	// Options is the driver's own section ([<name>]) as key/values, handed
	// to the driver's Configure which validates them.
	Options map[string]string
}

// Keystone is the [keystone_authtoken] section, with keystonemiddleware's
// option names.
type Keystone struct {
	AuthType           string
	AuthURL            string
	WWWAuthenticateURI string
	Username           string
	Password           string
	ProjectName        string
	UserDomainName     string // "" when only user_domain_id is set
	UserDomainID       string
	ProjectDomainName  string // "" when only project_domain_id is set
	ProjectDomainID    string
	RegionName         string
	CAFile             string
	Insecure           bool
	TokenCacheTime     time.Duration
	Timeout            time.Duration
}

// Manage is the [manage] section.
type Manage struct {
	// ReconcileInterval runs the reconciler this often; 0 turns it off.
	ReconcileInterval time.Duration
	// IntentLease is how long an adoption in progress stays this
	// replica's without renewal: after it, another replica repairs it.
	IntentLease time.Duration
}

// Migration is the [migration] section.
type Migration struct {
	// MaxConcurrent migrations run at once in this replica.
	MaxConcurrent int
	// EnrollTimeout bounds how long a migrated node may take to become
	// active and protected in its target.
	EnrollTimeout time.Duration
}

// Quota is the [quota] section, with Nova's option names.
type Quota struct {
	// MetadataItems is how many metadata items a server may have: -1 is
	// unlimited, 0 none. It is checked before the body's schema, so
	// that a body of many keys costs little.
	MetadataItems int
}

// Policy is the [oslo_policy] section.
type Policy struct {
	PolicyFile string
}

// Notifier is the [oslo_messaging_notifications] section.
type Notifier struct {
	Driver string
}

// Service is an OpenStack service the host talks to ([glance], [neutron]).
// Configured is false when none of url, cloud and auth_url is set: its
// checks are skipped.
type Service struct {
	Configured bool
	Options    map[string]string
}

// Overrides are command-line flags; set fields win over the file.
type Overrides struct {
	HostIP    string
	Port      int
	PluginDir string
	Debug     bool
}

// Error names where in the configuration something is wrong.
type Error struct {
	File, Section, Option string
	Problem               string
}

func (e *Error) Error() string {
	where := e.File
	if where == "" {
		where = "configuration"
	}
	switch {
	case e.Section != "" && e.Option != "":
		return fmt.Sprintf("%s: [%s] %s: %s", where, e.Section, e.Option, e.Problem)
	case e.Section != "":
		return fmt.Sprintf("%s: [%s]: %s", where, e.Section, e.Problem)
	default:
		return fmt.Sprintf("%s: %s", where, e.Problem)
	}
}

// Load reads path (which may be "" for defaults only) and applies the
// overrides. The executable's directory is the default plugin_dir.
func Load(path string, over Overrides) (*Config, error) {
	values, err := read(path)
	if err != nil {
		return nil, err
	}
	c := &Config{File: path}
	if err := c.fill(values); err != nil {
		return nil, err
	}
	c.apply(over)
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// read parses the file into section -> option -> value, refusing unknown
// sections and options.
func read(path string) (map[string]map[string]string, error) {
	values := map[string]map[string]string{}
	if path == "" {
		return values, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Problem: fmt.Sprintf("cannot read the configuration file: %v", errors.Unwrap(err))}
	}
	opts := ini.LoadOptions{
		IgnoreInlineComment:        true, // a password may contain '#'
		AllowPythonMultilineValues: true,
		SkipUnrecognizableLines:    false,
	}
	f, err := ini.LoadSources(opts, data)
	if err != nil {
		return nil, malformed(path, data, opts, err)
	}
	for _, sec := range f.Sections() {
		opts := map[string]string{}
		for _, key := range sec.Keys() {
			opts[key.Name()] = key.Value()
		}
		if len(opts) == 0 && sec.Name() == ini.DefaultSection {
			continue
		}
		values[sec.Name()] = opts
	}
	return values, nil
}

// fill checks every option against the known sections and sets the typed
// fields.
func (c *Config) fill(values map[string]map[string]string) error {
	known := sections()
	driverName := "noop"
	if v, ok := values["driver"]["name"]; ok && v != "" {
		driverName = v
	}
	backends, listed, err := c.enabledBackends(values, known)
	if err != nil {
		return err
	}
	if listed {
		if err := c.checkListedDriverSection(values, backends); err != nil {
			return err
		}
	}
	if err := c.checkSections(values, known, backends, listed, driverName); err != nil {
		return err
	}
	p := parser{file: c.File, values: values, known: known}
	_, c.authIsSet = values["DEFAULT"]["auth_strategy"]
	_, c.hostIsSet = values["DEFAULT"]["host"]
	c.AuthStrategy = p.str("DEFAULT", "auth_strategy")
	c.HTTPBasicAuthUserFile = p.str("DEFAULT", "http_basic_auth_user_file")
	c.StatePath = p.str("DEFAULT", "state_path")
	c.Host = p.str("DEFAULT", "host")
	c.Debug = p.boolean("DEFAULT", "debug")
	c.TransportURL = p.str("DEFAULT", "transport_url")
	c.ControlExchange = p.str("DEFAULT", "control_exchange")
	c.ClientSocketTimeout = p.seconds("DEFAULT", "client_socket_timeout")

	c.API = API{HostIP: p.str("api", "host_ip"), Port: p.integer("api", "port"), PublicEndpoint: p.str("api", "public_endpoint"),
		MaxConnections: p.integer("api", "max_connections"), MetricsEnabled: p.boolean("api", "metrics_enabled"),
		MetricsHostIP: p.str("api", "metrics_host_ip"), MetricsPort: p.integer("api", "metrics_port")}
	c.Database = Database{Connection: p.str("database", "connection")}
	c.Driver = Driver{
		Name:        driverName,
		PluginDir:   p.str("driver", "plugin_dir"),
		CallTimeout: p.seconds("driver", "call_timeout"),
		SHA256:      p.str("driver", "sha256"),
		Options:     values[driverName],
	}
	if c.Driver.Options == nil {
		c.Driver.Options = map[string]string{}
	}
	c.driverCallTimeout = c.Driver.CallTimeout
	c.fillBackends(&p, backends, listed)
	c.Keystone = Keystone{
		AuthType:           p.str("keystone_authtoken", "auth_type"),
		AuthURL:            p.str("keystone_authtoken", "auth_url"),
		WWWAuthenticateURI: p.str("keystone_authtoken", "www_authenticate_uri"),
		Username:           p.str("keystone_authtoken", "username"),
		Password:           p.str("keystone_authtoken", "password"),
		ProjectName:        p.str("keystone_authtoken", "project_name"),
		UserDomainName:     p.domainName("keystone_authtoken", "user"),
		UserDomainID:       p.str("keystone_authtoken", "user_domain_id"),
		ProjectDomainName:  p.domainName("keystone_authtoken", "project"),
		ProjectDomainID:    p.str("keystone_authtoken", "project_domain_id"),
		RegionName:         p.str("keystone_authtoken", "region_name"),
		CAFile:             p.str("keystone_authtoken", "cafile"),
		Insecure:           p.boolean("keystone_authtoken", "insecure"),
		TokenCacheTime:     p.seconds("keystone_authtoken", "token_cache_time"),
		Timeout:            p.seconds("keystone_authtoken", "http_connect_timeout"),
	}
	c.Policy = Policy{PolicyFile: p.str("oslo_policy", "policy_file")}
	c.Notifier = Notifier{Driver: p.str("oslo_messaging_notifications", "driver")}
	c.Manage = Manage{
		ReconcileInterval: p.seconds("manage", "reconcile_interval"),
		IntentLease:       p.seconds("manage", "intent_lease"),
	}
	c.Migration = Migration{
		MaxConcurrent: p.integer("migration", "max_concurrent"),
		EnrollTimeout: p.seconds("migration", "enroll_timeout"),
	}
	c.Quota = Quota{MetadataItems: p.integer("quota", "metadata_items")}
	c.Glance = p.service("glance")
	c.Neutron = p.service("neutron")
	return p.err
}

func (c *Config) apply(over Overrides) {
	if over.HostIP != "" {
		c.API.HostIP = over.HostIP
	}
	if over.Port != 0 {
		c.API.Port = over.Port
	}
	if over.PluginDir != "" {
		c.Driver.PluginDir = over.PluginDir
	}
	if over.Debug {
		c.Debug = true
	}
	if c.Driver.PluginDir == "" {
		if exe, err := os.Executable(); err == nil {
			c.Driver.PluginDir = filepath.Dir(exe)
		}
	}
	if c.Host == "" && !c.hostIsSet {
		// oslo.config's default: the machine's name. It names this
		// replica in the intent log, so it must be stable and distinct.
		c.Host, _ = os.Hostname()
	}
	if c.Database.Connection == "" {
		c.Database.Connection = "sqlite://" + filepath.Join(c.StatePath, "mogan.sqlite")
	}
}

// check cross-checks options that only make sense together.
func (c *Config) check() error {
	if err := c.checkHost(); err != nil {
		return err
	}
	if c.driverCallTimeout <= 0 {
		return &Error{File: c.File, Section: "driver", Option: "call_timeout", Problem: "must be a positive number of seconds"}
	}
	if err := c.checkBackends(); err != nil {
		return err
	}
	if c.ClientSocketTimeout < 0 {
		return &Error{File: c.File, Section: "DEFAULT", Option: "client_socket_timeout", Problem: "must be 0 (never) or a positive number of seconds"}
	}
	if c.API.MaxConnections < 0 {
		return &Error{File: c.File, Section: "api", Option: "max_connections", Problem: "must be 0 (no bound) or a positive number"}
	}
	if c.Quota.MetadataItems < -1 {
		return &Error{File: c.File, Section: "quota", Option: "metadata_items", Problem: "must be -1 (unlimited), 0 (no metadata) or a positive number"}
	}
	if c.Manage.ReconcileInterval < 0 {
		return &Error{File: c.File, Section: "manage", Option: "reconcile_interval", Problem: "must be 0 (off) or a positive number of seconds"}
	}
	if c.Migration.MaxConcurrent < 1 {
		return &Error{File: c.File, Section: "migration", Option: "max_concurrent", Problem: "must be at least 1"}
	}
	if c.Migration.EnrollTimeout <= 0 {
		return &Error{File: c.File, Section: "migration", Option: "enroll_timeout", Problem: "must be a positive number of seconds"}
	}
	if c.Manage.IntentLease < 3*time.Second {
		return &Error{File: c.File, Section: "manage", Option: "intent_lease", Problem: "must be at least 3 seconds (it is renewed every third of it)"}
	}
	if c.AuthStrategy == "keystone" && c.Keystone.AuthURL == "" {
		problem := "auth_strategy is keystone (the default) but [keystone_authtoken] auth_url is not set"
		if !c.authIsSet {
			problem += "; set [DEFAULT] auth_strategy = noauth explicitly to run without authentication"
		}
		return &Error{File: c.File, Section: "DEFAULT", Option: "auth_strategy", Problem: problem}
	}
	if ip := net.ParseIP(c.API.HostIP); ip == nil {
		return &Error{File: c.File, Section: "api", Option: "host_ip", Problem: fmt.Sprintf("%q is not an IP address", c.API.HostIP)}
	}
	return nil
}

// checkHost refuses a [DEFAULT] host that is empty, or that holds white
// space or a control character: it names this replica in the intent log
// and in the lock that keeps two live replicas from sharing a name, so an
// empty one (or the machine's, when it has none) would be every unnamed
// replica's, and a name with spaces is a typo or an inline comment (the
// file has none: "host = api-1 # first" is all value).
func (c *Config) checkHost() error {
	const why = "it names this replica in the intent log and in the lock that keeps two live replicas from sharing a name"
	fail := func(problem string) error {
		return &Error{File: c.File, Section: "DEFAULT", Option: "host", Problem: problem}
	}
	switch {
	case c.Host == "" && c.hostIsSet:
		return fail("is empty: " + why + "; set a name, or remove the line for the machine's name")
	case c.Host == "":
		return fail("is not set and the machine has no name: " + why + "; set one")
	case strings.ContainsFunc(c.Host, unicode.IsSpace):
		return fail(fmt.Sprintf("%q holds white space: %s; make it one word", c.Host, why))
	case strings.ContainsFunc(c.Host, unicode.IsControl) || !utf8.ValidString(c.Host):
		return fail(fmt.Sprintf("%q holds a control character: %s", c.Host, why))
	}
	return nil
}

// ListensOnLoopback reports whether the API is reachable only locally.
func (c *Config) ListensOnLoopback() bool {
	ip := net.ParseIP(c.API.HostIP)
	return ip != nil && ip.IsLoopback()
}
