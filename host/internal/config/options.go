package config

import (
	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// Option kinds, for parsing and for the error that names a bad value.
type kind int

const (
	kindString kind = iota
	kindInt
	kindSeconds // a duration: integer seconds, as oslo.config; bounded (maxSeconds)
	kindBool
	kindPort
	kindChoice
)

type option struct {
	name    string
	kind    kind
	def     string
	choices []string
	secret  bool // never echoed back in an error
	// required is shown in the sample; the check is the reader's.
	required bool
	// help says what the option does, for the sample configuration
	// (make sample-config) and an operator reading it.
	help string
	// sample, when set, is what the sample shows as the default of an
	// option whose default is computed at start.
	sample string
}

// serviceOptions are shared by [glance] and [neutron]: a URL and
// keystoneauth-style credentials, or a clouds.yaml entry. They are
// osclient's, which reads them (glance.New, neutron.New), with its help.
var serviceOptions = secondsOption(fromSchema(osclient.Describe(osclient.Spec{})), "timeout")

// secondsOption is opts with the option name read as a duration.
func secondsOption(opts []option, name string) []option {
	for i := range opts {
		if opts[i].name == name {
			opts[i].kind = kindSeconds
		}
	}
	return opts
}

// sections lists every section mogan-api knows and its options. The driver's
// own section ([driver] name) is passed to the driver untouched: the driver
// validates it.
func sections() map[string][]option {
	return map[string][]option{
		"DEFAULT": {
			{name: "auth_strategy", kind: kindChoice, def: "keystone", choices: []string{"keystone", "http_basic", "noauth"}, help: "How callers are authenticated: keystone (their X-Auth-Token, validated with [keystone_authtoken]), http_basic (http_basic_auth_user_file) or noauth (every caller is admin: set it explicitly, and only on loopback)."},
			{name: "http_basic_auth_user_file", def: "/etc/mogan/htpasswd", help: "bcrypt htpasswd file of auth_strategy http_basic: user:hash is admin (as Ironic), user:hash:role1,role2 has those roles."},
			{name: "state_path", def: "/var/lib/mogan", help: "Directory of the default SQLite database ([database] connection unset)."},
			{name: "host", help: "Name of this replica in the intent log and in notifications' publisher_id (mogan-api:<host>): stable across restarts, distinct between replicas.", sample: "<the machine's name>"},
			{name: "debug", kind: kindBool, def: "false", help: "Log at debug level."},
			{name: "transport_url", secret: true, help: "RabbitMQ URL of the messagingv2 notifications: rabbit://user:pass@host:5672/vhost, several hosts comma-separated."},
			{name: "control_exchange", def: "mogan", help: "Topic exchange notifications are sent to."},
			{name: "client_socket_timeout", kind: kindSeconds, def: "900", help: "Seconds a keep-alive connection may stay idle, and a client may pause while sending its request, before it is closed; never a write deadline. 0 = no timeout."},
			{name: "enabled_backends", help: "Backends to run, in order, comma-separated (as Cinder's): each has a section of its own name holding driver = <plugin>, optional sha256 and call_timeout, and the driver's own options (see [east] below); one plugin process runs per backend. A name is lower-case letters, digits, _ and -, and not a host section's. Unset: the one backend [driver] name implies, named after it and configured from its section.", sample: "<unset: one backend, [driver] name>"},
		},
		"api": {
			{name: "host_ip", def: "127.0.0.1", help: "IP address the API listens on."},
			{name: "port", kind: kindPort, def: "6688", help: "TCP port the API listens on."},
			{name: "public_endpoint", help: "Base URL of links and Location headers, e.g. https://mogan.example.com:6688. Unset, links use the Host each client sends: set it when the API is reachable beyond loopback."},
			{name: "max_connections", kind: kindInt, def: "1000", help: "Connections served at once; more wait in the kernel's backlog until one closes. Keep it below the open-file limit. 0 = no bound."},
			{name: "metrics_enabled", kind: kindBool, def: "true", help: "Serve Prometheus metrics at /metrics, without authentication: on the API's port, or on metrics_host_ip:metrics_port when metrics_port is set. false = no /metrics anywhere."},
			{name: "metrics_host_ip", help: "IP address of the metrics listener when metrics_port is set.", sample: "<[api] host_ip>"},
			{name: "metrics_port", kind: kindPort, help: "TCP port of a listener of its own for /metrics (then not served on the API's port). Unset: /metrics is on the API's port.", sample: "<unset: the API's port>"},
		},
		"database": {
			{name: "connection", secret: true, help: "Database URL: sqlite:///absolute/path or postgresql://user:password@host/db. Unset: SQLite in state_path/mogan.sqlite."},
		},
		"driver": {
			{name: "name", def: "noop", help: "Driver plugin to run without [DEFAULT] enabled_backends: <plugin_dir>/mogan-driver-<name>, the one backend, named after it. Its own options go in the section named after it ([<name>]). With enabled_backends each backend's section names its driver, and this is refused."},
			{name: "plugin_dir", help: "Directory of the mogan-driver-* binaries.", sample: "<the directory of mogan-api>"},
			{name: "call_timeout", kind: kindSeconds, def: "30", help: "Seconds each driver call may take (for a listing: the silence between two nodes) before it is a 504; a plugin that then misses a ping is restarted. A backend's section may override it."},
			{name: "sha256", help: "Hex SHA-256 digest pinning the driver binary of [driver] name: a different file is refused before it runs. With enabled_backends each backend's section pins its own, and this is refused."},
		},
		"keystone_authtoken": {
			{name: "auth_type", kind: kindChoice, def: "password", choices: []string{"password"}, help: "Authentication plugin of the host's own service credentials (keystonemiddleware's option); only password."},
			{name: "auth_url", help: "Keystone's URL, e.g. http://keystone:5000/v3; required with auth_strategy keystone."},
			{name: "www_authenticate_uri", help: "Keystone URL sent to clients in the WWW-Authenticate header of a 401. Unset: auth_url."},
			{name: "username", help: "The host's service user, which validates callers' tokens."},
			{name: "password", secret: true, help: "Password of username."},
			{name: "project_name", help: "Project of the host's service user."},
			{name: "user_domain_name", def: "Default", help: "Domain of username, by name."},
			{name: "user_domain_id", help: "Domain of username, by id (instead of user_domain_name)."},
			{name: "project_domain_name", def: "Default", help: "Domain of project_name, by name."},
			{name: "project_domain_id", help: "Domain of project_name, by id (instead of project_domain_name)."},
			{name: "region_name", help: "Region of the Keystone endpoint."},
			{name: "cafile", help: "PEM bundle of the certificate authorities to trust for Keystone over https, instead of the system's."},
			{name: "insecure", kind: kindBool, def: "false", help: "Skip the verification of Keystone's TLS certificate (testing only)."},
			{name: "token_cache_time", kind: kindSeconds, def: "300", help: "Seconds a validated token is reused without asking Keystone again (never past its expiry)."},
			{name: "http_connect_timeout", kind: kindSeconds, def: "10", help: "Seconds each request to Keystone may take."},
		},
		"oslo_policy": {
			{name: "policy_file", help: "YAML or JSON file overriding the default policy rules (mogan:manageable_servers:get_all, mogan:manageable_servers:create, mogan:server:unmanage, ...)."},
		},
		"oslo_messaging_notifications": {
			{name: "driver", kind: kindChoice, def: "noop", choices: []string{"noop", "log", "messagingv2", "messaging"}, help: "Where server.manage.* and server.unmanage.* notifications go: noop (nowhere), log (one log line each) or messagingv2 (oslo.messaging's envelope on RabbitMQ, [DEFAULT] transport_url); messaging (oslo's v1 envelope) is refused."},
		},
		"manage": {
			{name: "reconcile_interval", kind: kindSeconds, def: "60", help: "Seconds between runs of the reconciler (also run once at start): it repairs adoptions whose replica died, releases nodes late requests associated, and syncs power states. 0 = off."},
			{name: "intent_lease", kind: kindSeconds, def: "60", help: "Seconds an adoption in progress stays this replica's without renewal (renewed every third of it); after it, another replica repairs it. At least 3."},
		},
		"migration": {
			{name: "max_concurrent", kind: kindInt, def: "16", help: "Migrations (POST /v1/migrations) this replica runs at once; more wait, pending. At least 1."},
			{name: "enroll_timeout", kind: kindSeconds, def: "1800", help: "Seconds a migrated machine's node may take to become active and protected in its target (manage, then adopt) before the migration is rolled back."},
		},
		"quota": {
			{name: "metadata_items", kind: kindInt, def: "128", help: "Metadata items a server may have (Nova's option); more is a 403. -1 = unlimited, 0 = no metadata."},
		},
		"glance":  serviceOptions,
		"neutron": serviceOptions,
	}
}
