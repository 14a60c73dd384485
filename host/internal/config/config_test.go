package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func writeConf(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mogan.conf")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadErrorsNameFileSectionAndOption(t *testing.T) {
	tests := map[string]struct {
		body string
		want []string // substrings of the error
	}{
		"unknown option": {
			body: "[DEFAULT]\nauth_strategy = noauth\n[api]\nprot = 1\n",
			want: []string{"mogan.conf", "[api] prot", "unknown option"},
		},
		"unknown section": {
			body: "[DEFAULT]\nauth_strategy = noauth\n[databse]\nconnection = x\n",
			want: []string{"[databse]", "unknown section"},
		},
		"malformed line": {
			body: "[DEFAULT]\nauth_strategy = noauth\nthis line has no delimiter\n",
			want: []string{"mogan.conf", "malformed INI"},
		},
		"port not a number": {
			body: "[DEFAULT]\nauth_strategy = noauth\n[api]\nport = http\n",
			want: []string{"[api] port", `"http" is not an integer`},
		},
		"port out of range": {
			body: "[DEFAULT]\nauth_strategy = noauth\n[api]\nport = 70000\n",
			want: []string{"[api] port", "not a port number"},
		},
		"bad choice": {
			body: "[DEFAULT]\nauth_strategy = magic\n",
			want: []string{"[DEFAULT] auth_strategy", `"magic" is not one of: keystone, http_basic, noauth`},
		},
		"bad boolean": {
			body: "[DEFAULT]\nauth_strategy = noauth\ndebug = maybe\n",
			want: []string{"[DEFAULT] debug", "not a boolean"},
		},
		"keystone without auth_url hints at noauth": {
			body: "[api]\nport = 6688\n",
			want: []string{"[DEFAULT] auth_strategy", "keystone (the default)", "noauth explicitly"},
		},
		"zero call timeout": {
			body: "[DEFAULT]\nauth_strategy = noauth\n[driver]\ncall_timeout = 0\n",
			want: []string{"[driver] call_timeout", "positive"},
		},
		"negative reconcile interval": {
			body: "[DEFAULT]\nauth_strategy = noauth\n[manage]\nreconcile_interval = -1\n",
			want: []string{"[manage] reconcile_interval", "0 (off)"},
		},
		"intent lease too short": {
			body: "[DEFAULT]\nauth_strategy = noauth\n[manage]\nintent_lease = 2\n",
			want: []string{"[manage] intent_lease", "at least 3 seconds"},
		},
		"migration max_concurrent 0": {
			body: "[DEFAULT]\nauth_strategy = noauth\n[migration]\nmax_concurrent = 0\n",
			want: []string{"[migration] max_concurrent", "at least 1"},
		},
		"migration enroll_timeout 0": {
			body: "[DEFAULT]\nauth_strategy = noauth\n[migration]\nenroll_timeout = 0\n",
			want: []string{"[migration] enroll_timeout", "positive"},
		},
		"messaging v1 notifications": {
			body: "[DEFAULT]\nauth_strategy = noauth\n[oslo_messaging_notifications]\ndriver = bogus\n",
			want: []string{"[oslo_messaging_notifications] driver"},
		},
		"negative client socket timeout": {
			body: "[DEFAULT]\nauth_strategy = noauth\nclient_socket_timeout = -1\n",
			want: []string{"[DEFAULT] client_socket_timeout", "0 (never)"},
		},
		"negative max connections": {
			body: "[DEFAULT]\nauth_strategy = noauth\n[api]\nmax_connections = -5\n",
			want: []string{"[api] max_connections", "0 (no bound)"},
		},
		"host_ip not an address": {
			body: "[DEFAULT]\nauth_strategy = noauth\n[api]\nhost_ip = localhost\n",
			want: []string{"[api] host_ip", "not an IP address"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeConf(t, tc.body), Overrides{})
			if err == nil {
				t.Fatal("Load succeeded; want an error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.conf"), Overrides{})
	if err == nil || !strings.Contains(err.Error(), "absent.conf") {
		t.Fatalf("err = %v; want one naming the file", err)
	}
}

func TestLoadDefaultsAndValues(t *testing.T) {
	path := writeConf(t, `[DEFAULT]
auth_strategy = noauth
# a comment; and an inline # that belongs to the value
control_exchange = mogan # not a comment
host = api-1

[database]
connection = postgresql://u@127.0.0.1/mogan

[driver]
name = ironic
call_timeout = 5

[ironic]
url = http://127.0.0.1:6385
auth_type = none
`)
	cfg, err := Load(path, Overrides{Port: 7000})
	if err != nil {
		t.Fatal(err)
	}
	type view struct {
		Auth, Host, Exchange, Conn, Driver, Addr string
		Timeout                                  time.Duration
		Options                                  map[string]string
		Glance                                   bool
	}
	got := view{cfg.AuthStrategy, cfg.Host, cfg.ControlExchange, cfg.Database.Connection, cfg.Driver.Name, cfg.API.Addr(),
		cfg.Driver.CallTimeout, cfg.Driver.Options, cfg.Glance.Configured}
	want := view{"noauth", "api-1", "mogan # not a comment", "postgresql://u@127.0.0.1/mogan", "ironic", "127.0.0.1:7000",
		5 * time.Second, map[string]string{"url": "http://127.0.0.1:6385", "auth_type": "none"}, false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestDefaultDatabaseIsEmbeddedSQLite(t *testing.T) {
	cfg, err := Load(writeConf(t, "[DEFAULT]\nauth_strategy = noauth\nstate_path = /srv/mogan\n"), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Database.Connection, "sqlite:///srv/mogan/mogan.sqlite"; got != want {
		t.Errorf("connection = %q; want %q", got, want)
	}
	if cfg.Driver.PluginDir == "" {
		t.Error("plugin_dir has no default")
	}
	if !cfg.ListensOnLoopback() {
		t.Error("the default address is not loopback")
	}
}

// TestConnectionOptions: oslo.service's client_socket_timeout (900 s) and
// max_connections (1000) by default; 0 turns either off.
func TestConnectionOptions(t *testing.T) {
	tests := map[string]struct {
		body        string
		wantTimeout time.Duration
		wantMax     int
	}{
		"defaults": {"", 900 * time.Second, 1000},
		"set":      {"client_socket_timeout = 2\n[api]\nmax_connections = 8\n", 2 * time.Second, 8},
		"off":      {"client_socket_timeout = 0\n[api]\nmax_connections = 0\n", 0, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(writeConf(t, "[DEFAULT]\nauth_strategy = noauth\n"+tc.body), Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ClientSocketTimeout != tc.wantTimeout || cfg.API.MaxConnections != tc.wantMax {
				t.Errorf("client_socket_timeout, max_connections = %s, %d; want %s, %d",
					cfg.ClientSocketTimeout, cfg.API.MaxConnections, tc.wantTimeout, tc.wantMax)
			}
		})
	}
}

// TestServiceConfigured: [glance] and [neutron] are on with a url, a
// clouds.yaml cloud, or Keystone credentials (the endpoint then comes from
// the catalog); off when none is set.
func TestServiceConfigured(t *testing.T) {
	cases := map[string]struct {
		section string
		want    bool
	}{
		"nothing":            {"", false},
		"url":                {"[glance]\nurl = http://127.0.0.1:9292\n", true},
		"cloud":              {"[glance]\ncloud = prod\n", true},
		"catalog lookup":     {"[glance]\nauth_type = password\nauth_url = http://127.0.0.1:5000/v3\nusername = mogan\npassword = x\n", true},
		"only a timeout set": {"[glance]\ntimeout = 30\n", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(writeConf(t, "[DEFAULT]\nauth_strategy = noauth\n"+tc.section), Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Glance.Configured != tc.want {
				t.Errorf("Glance.Configured = %v, want %v", cfg.Glance.Configured, tc.want)
			}
		})
	}
}
