package config

// Option kinds, for parsing and for the error that names a bad value.
type kind int

const (
	kindString kind = iota
	kindInt         // also every duration: integer seconds, as oslo.config
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
}

// serviceOptions are shared by [ironic], [glance] and [neutron]: a URL and
// keystoneauth-style credentials, or a clouds.yaml entry.
var serviceOptions = []option{
	{name: "url"},
	{name: "cloud"},
	{name: "auth_type", kind: kindChoice, def: "none", choices: []string{"none", "http_basic", "password"}},
	{name: "auth_url"},
	{name: "username"},
	{name: "password", secret: true},
	{name: "project_name"},
	{name: "user_domain_name"},
	{name: "project_domain_name"},
	{name: "region_name"},
	{name: "cafile"},
	{name: "insecure", kind: kindBool, def: "false"},
	{name: "timeout", kind: kindInt},
	{name: "api_version"},
}

// sections lists every section mogan-api knows and its options. The driver's
// own section ([driver] name) is passed to the driver untouched: the driver
// validates it.
func sections() map[string][]option {
	return map[string][]option{
		"DEFAULT": {
			{name: "auth_strategy", kind: kindChoice, def: "keystone", choices: []string{"keystone", "http_basic", "noauth"}},
			{name: "http_basic_auth_user_file", def: "/etc/mogan/htpasswd"},
			{name: "state_path", def: "/var/lib/mogan"},
			{name: "host"},
			{name: "debug", kind: kindBool, def: "false"},
			{name: "transport_url", secret: true},
			{name: "control_exchange", def: "mogan"},
			{name: "client_socket_timeout", kind: kindInt, def: "900"},
		},
		"api": {
			{name: "host_ip", def: "127.0.0.1"},
			{name: "port", kind: kindPort, def: "6688"},
			{name: "public_endpoint"},
			{name: "max_connections", kind: kindInt, def: "1000"},
		},
		"database": {
			{name: "connection", secret: true},
		},
		"driver": {
			{name: "name", def: "noop"},
			{name: "plugin_dir"},
			{name: "call_timeout", kind: kindInt, def: "30"},
			{name: "sha256"},
		},
		"keystone_authtoken": {
			{name: "auth_type", kind: kindChoice, def: "password", choices: []string{"password"}},
			{name: "auth_url"},
			{name: "www_authenticate_uri"},
			{name: "username"},
			{name: "password", secret: true},
			{name: "project_name"},
			{name: "user_domain_name", def: "Default"},
			{name: "user_domain_id"},
			{name: "project_domain_name", def: "Default"},
			{name: "project_domain_id"},
			{name: "region_name"},
			{name: "cafile"},
			{name: "insecure", kind: kindBool, def: "false"},
			{name: "token_cache_time", kind: kindInt, def: "300"},
			{name: "http_connect_timeout", kind: kindInt, def: "10"},
		},
		"oslo_policy": {
			{name: "policy_file"},
		},
		"oslo_messaging_notifications": {
			{name: "driver", kind: kindChoice, def: "noop", choices: []string{"noop", "log", "messagingv2", "messaging"}},
		},
		"manage": {
			{name: "reconcile_interval", kind: kindInt, def: "60"},
			{name: "intent_lease", kind: kindInt, def: "60"},
		},
		"quota": {
			{name: "metadata_items", kind: kindInt, def: "128"},
		},
		"glance":  serviceOptions,
		"neutron": serviceOptions,
	}
}
