package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const noauth = "[DEFAULT]\nauth_strategy = noauth\n"

// sum is a well-formed SHA-256 pin.
var sum = strings.Repeat("ab", 32)

// TestBackends: [DEFAULT] enabled_backends names the backends in order,
// each configured from its own section (driver, sha256, call_timeout, the
// rest handed to the driver); without it, the one backend [driver] name
// implies, named after it and configured from its section whole, as
// before. Driver describes the first backend.
func TestBackends(t *testing.T) {
	tests := map[string]struct {
		body       string
		want       []Backend
		wantListed bool
	}{
		"nothing: the noop driver": {
			body: noauth,
			want: []Backend{{Name: "noop", Driver: "noop", CallTimeout: 30 * time.Second, Options: map[string]string{}}},
		},
		"[driver] name and its section": {
			body: noauth + "[driver]\nname = ironic\ncall_timeout = 7\nsha256 = " + sum + "\n[ironic]\nurl = http://127.0.0.1:6385\nauth_type = none\n",
			want: []Backend{{Name: "ironic", Driver: "ironic", SHA256: sum, CallTimeout: 7 * time.Second,
				Options: map[string]string{"url": "http://127.0.0.1:6385", "auth_type": "none"}}},
		},
		"[driver] name without its section": {
			body: noauth + "[driver]\nname = test\n",
			want: []Backend{{Name: "test", Driver: "test", CallTimeout: 30 * time.Second, Options: map[string]string{}}},
		},
		"two Ironics and a noop, in order, spaces trimmed": {
			body: noauth + "enabled_backends =  west,east ,  lab\n" +
				"[driver]\ncall_timeout = 12\n" +
				"[east]\ndriver = ironic\ncall_timeout = 5\nurl = http://east:6385\nauth_type = none\n" +
				"[west]\ndriver = ironic\nsha256 = " + sum + "\nurl = http://west:6385\ntimeout = 9\n" +
				"[lab]\ndriver = noop\n",
			want: []Backend{
				{Name: "west", Driver: "ironic", SHA256: sum, CallTimeout: 12 * time.Second,
					Options: map[string]string{"url": "http://west:6385", "timeout": "9"}},
				{Name: "east", Driver: "ironic", CallTimeout: 5 * time.Second,
					Options: map[string]string{"url": "http://east:6385", "auth_type": "none"}},
				{Name: "lab", Driver: "noop", CallTimeout: 12 * time.Second, Options: map[string]string{}},
			},
			wantListed: true,
		},
		"one backend named after its driver (the upgrade)": {
			body: noauth + "enabled_backends = ironic\n[ironic]\ndriver = ironic\nsha256 = " + sum + "\nurl = http://127.0.0.1:6385\n",
			want: []Backend{{Name: "ironic", Driver: "ironic", SHA256: sum, CallTimeout: 30 * time.Second,
				Options: map[string]string{"url": "http://127.0.0.1:6385"}}},
			wantListed: true,
		},
		"names with digits, _ and -": {
			body:       noauth + "enabled_backends = 2nd_dc-a\n[2nd_dc-a]\ndriver = my-driver.v2\n",
			want:       []Backend{{Name: "2nd_dc-a", Driver: "my-driver.v2", CallTimeout: 30 * time.Second, Options: map[string]string{}}},
			wantListed: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(writeConf(t, tc.body), Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, cfg.Backends); diff != "" {
				t.Errorf("Backends (-want +got):\n%s", diff)
			}
			if cfg.BackendsListed != tc.wantListed {
				t.Errorf("BackendsListed = %v, want %v", cfg.BackendsListed, tc.wantListed)
			}
			first := tc.want[0]
			got := Driver{Name: cfg.Driver.Name, SHA256: cfg.Driver.SHA256, CallTimeout: cfg.Driver.CallTimeout, Options: cfg.Driver.Options}
			want := Driver{Name: first.Driver, SHA256: first.SHA256, CallTimeout: first.CallTimeout, Options: first.Options}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Driver is not the first backend (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBackendsAreRefused: what is wrong with a backend is refused at
// Load, so by check-config and at start, in one line naming the file,
// section and option.
func TestBackendsAreRefused(t *testing.T) {
	east := "[east]\ndriver = ironic\n"
	tests := map[string]struct {
		body string
		want string // the error after "<file>: "
	}{
		"an upper-case name": {
			body: noauth + "enabled_backends = East\n" + east,
			want: `[DEFAULT] enabled_backends: "East" is not a backend name: 1 to 64 lower-case letters, digits, "_" and "-", starting with a letter or a digit`,
		},
		"a name starting with -": {
			body: noauth + "enabled_backends = -east\n[-east]\ndriver = ironic\n",
			want: `[DEFAULT] enabled_backends: "-east" is not a backend name: 1 to 64 lower-case letters, digits, "_" and "-", starting with a letter or a digit`,
		},
		"a name of 65 characters": {
			body: noauth + "enabled_backends = " + strings.Repeat("a", 65) + "\n",
			want: fmt.Sprintf(`[DEFAULT] enabled_backends: %q is not a backend name: 1 to 64 lower-case letters, digits, "_" and "-", starting with a letter or a digit`, strings.Repeat("a", 65)),
		},
		"a space inside a name": {
			body: noauth + "enabled_backends = east west\n",
			want: `[DEFAULT] enabled_backends: "east west" is not a backend name: 1 to 64 lower-case letters, digits, "_" and "-", starting with a letter or a digit`,
		},
		"no name": {
			body: noauth + "enabled_backends =\n",
			want: "[DEFAULT] enabled_backends: names no backend: list them (e.g. east, west), each with a section of its name, or remove the line for the one backend [driver] name implies",
		},
		"an empty name": {
			body: noauth + "enabled_backends = east,,west\n" + east + "[west]\ndriver = ironic\n",
			want: `[DEFAULT] enabled_backends: "east,,west" holds an empty name (a comma too many)`,
		},
		"a name used twice": {
			body: noauth + "enabled_backends = east, west, east\n" + east + "[west]\ndriver = ironic\n",
			want: `[DEFAULT] enabled_backends: "east" is named twice`,
		},
		"a listed section missing": {
			body: noauth + "enabled_backends = east, west\n" + east,
			want: `[DEFAULT] enabled_backends: backend "west" has no section [west] (it holds driver = <name> and the driver's options)`,
		},
		"a backend without driver": {
			body: noauth + "enabled_backends = east\n[east]\nurl = http://east:6385\n",
			want: "[east] driver: is required: the backend's driver plugin, e.g. driver = ironic (runs <plugin_dir>/mogan-driver-ironic)",
		},
		"an empty driver": {
			body: noauth + "enabled_backends = east\n[east]\ndriver =\n",
			want: "[east] driver: is required: the backend's driver plugin, e.g. driver = ironic (runs <plugin_dir>/mogan-driver-ironic)",
		},
		"a driver that is a path": {
			body: noauth + "enabled_backends = east\n[east]\ndriver = ../../bin/sh\n",
			want: `[east] driver: "../../bin/sh" is not a driver plugin's name: the part after "mogan-driver-" of a file in [driver] plugin_dir (letters, digits, ".", "_" and "-")`,
		},
		"a section not listed": {
			body: noauth + "enabled_backends = east\n" + east + "[ironic]\nurl = http://127.0.0.1:6385\n",
			want: "[ironic]: unknown section (known: DEFAULT, api, database, driver, glance, keystone_authtoken, manage, migration, neutron, " +
				"oslo_messaging_notifications, oslo_policy, quota, and the sections of [DEFAULT] enabled_backends: east)",
		},
		"a backend's section without enabled_backends": {
			body: noauth + east,
			want: "[east]: unknown section (known: DEFAULT, api, database, driver, glance, keystone_authtoken, manage, migration, neutron, " +
				"oslo_messaging_notifications, oslo_policy, quota, and the driver's own section [noop]); " +
				"a backend's section is named in [DEFAULT] enabled_backends",
		},
		"a backend's call_timeout of 0": {
			body: noauth + "enabled_backends = east\n" + east + "call_timeout = 0\n",
			want: "[east] call_timeout: must be a positive number of seconds",
		},
		"a backend's call_timeout over a day": {
			body: noauth + "enabled_backends = east\n" + east + "call_timeout = 36028797018963971\n",
			want: `[east] call_timeout: "36028797018963971" is out of range: a duration is at most 86400 seconds (1 day)`,
		},
		"a backend's call_timeout not a number": {
			body: noauth + "enabled_backends = east\n" + east + "call_timeout = soon\n",
			want: `[east] call_timeout: "soon" is not an integer`,
		},
		"[driver] call_timeout of 0 inherited": {
			body: noauth + "enabled_backends = east\n" + east + "[driver]\ncall_timeout = 0\n",
			want: "[driver] call_timeout: must be a positive number of seconds",
		},
		"a backend's sha256 not a digest": {
			body: noauth + "enabled_backends = east\n" + east + "sha256 = abc\n",
			want: `[east] sha256: "abc" is not a hex SHA-256 digest (64 hex digits, as sha256sum prints)`,
		},
		"[driver] sha256 not a digest": {
			body: noauth + "[driver]\nname = noop\nsha256 = xyz\n",
			want: `[driver] sha256: "xyz" is not a hex SHA-256 digest (64 hex digits, as sha256sum prints)`,
		},
		"[driver] name beside enabled_backends": {
			body: noauth + "enabled_backends = east\n" + east + "[driver]\nname = ironic\n",
			want: "[driver] name: is not used with [DEFAULT] enabled_backends: each backend's section has its own (e.g. [east] driver); move it there",
		},
		"[driver] sha256 beside enabled_backends": {
			body: noauth + "enabled_backends = east\n" + east + "[driver]\nsha256 = " + sum + "\n",
			want: "[driver] sha256: is not used with [DEFAULT] enabled_backends: each backend's section has its own (e.g. [east] sha256); move it there",
		},
	}
	// No backend may take a host section's name, planned ones included.
	for _, section := range append(slices.Sorted(func(yield func(string) bool) {
		for s := range sections() {
			if !yield(strings.ToLower(s)) {
				return
			}
		}
	}), "migration") {
		if !backendNameRE.MatchString(section) {
			continue // DEFAULT: not a name at all (its lower case is below)
		}
		tests["the host section "+section] = struct {
			body string
			want string
		}{
			body: noauth + "enabled_backends = " + section + "\n[" + section + "]\ndriver = ironic\n",
			want: fmt.Sprintf("[DEFAULT] enabled_backends: %q is the name of a host section: a backend needs a section of its own, name it otherwise", section),
		}
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := writeConf(t, tc.body)
			cfg, err := Load(path, Overrides{})
			if err == nil {
				t.Fatalf("accepted: %+v", cfg.Backends)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *config.Error", err)
			}
			if diff := cmp.Diff(path+": "+tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
	if _, ok := tests["the host section default"]; !ok {
		t.Error("the host section default (DEFAULT) is not among the cases")
	}
}

// TestEveryOlderConfigurationMeansOneBackend: the configurations the
// project ships and documents (etc/mogan.conf.sample, docs/operator.md,
// make demo's script, the end-to-end tests' host configuration) load
// unchanged, as one backend named after [driver] name and configured
// from its section whole.
func TestEveryOlderConfigurationMeansOneBackend(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	e2e := "[DEFAULT]\nauth_strategy = noauth\ndebug = true\n\n[api]\nhost_ip = 127.0.0.1\nport = 40000\n\n" +
		"[database]\nconnection = sqlite:///tmp/x/mogan.sqlite\n\n[driver]\nplugin_dir = /tmp/bin\n"
	tests := map[string]struct {
		body   string
		driver string
		opts   []string // the options of the driver's section
	}{
		"etc/mogan.conf.sample":     {body: read("etc/mogan.conf.sample") + "\n[DEFAULT]\nauth_strategy = noauth\n", driver: "noop"},
		"docs/operator.md":          {body: heredoc(t, read("docs/operator.md"), "/etc/mogan/mogan.conf"), driver: "ironic", opts: []string{"auth_type", "auth_url", "password", "project_domain_name", "project_name", "user_domain_name", "username"}},
		"host/scripts/demo.sh":      {body: heredoc(t, read("host/scripts/demo.sh"), `"$demo/mogan.conf"`), driver: "ironic", opts: []string{"auth_type", "url"}},
		"e2e: noop":                 {body: e2e + "name = noop\n", driver: "noop"},
		"e2e: test":                 {body: e2e + "name = test\ncall_timeout = 5\n[test]\ncontrol_file = /tmp/c.json\n", driver: "test", opts: []string{"control_file"}},
		"e2e: ironic":               {body: e2e + "name = ironic\n[ironic]\nurl = http://127.0.0.1:6385\nauth_type = http_basic\nusername = u\npassword = p\n", driver: "ironic", opts: []string{"auth_type", "password", "url", "username"}},
		"e2e: [ironic] beside noop": {body: e2e + "name = noop\n[ironic]\nurl = http://127.0.0.1:6385\n", driver: "noop"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(writeConf(t, tc.body), Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.BackendsListed || len(cfg.Backends) != 1 {
				t.Fatalf("BackendsListed %v, %d backends; want one implied", cfg.BackendsListed, len(cfg.Backends))
			}
			b := cfg.Backends[0]
			if b.Name != tc.driver || b.Driver != tc.driver || b.CallTimeout != cfg.Driver.CallTimeout || b.SHA256 != cfg.Driver.SHA256 {
				t.Errorf("backend %+v; want %q named after its driver, with [driver]'s call_timeout %s and sha256 %q",
					b, tc.driver, cfg.Driver.CallTimeout, cfg.Driver.SHA256)
			}
			if diff := cmp.Diff(tc.opts, slices.Sorted(func(yield func(string) bool) {
				for k := range b.Options {
					if !yield(k) {
						return
					}
				}
			}), cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

// heredoc is the here-document of a shell script or Markdown document
// that writes target (cat > target <<TAG … TAG), its variables expanded:
// a port is a port, a SHA-256 a digest, anything else a word.
func heredoc(t *testing.T, text, target string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)cat > ` + regexp.QuoteMeta(target) + ` <<(\w+)\n(.*?)\n(\w+)\n`).FindStringSubmatch(text)
	if m == nil || m[1] != m[3] {
		t.Fatalf("no here-document writing %s", target)
	}
	return os.Expand(m[2], func(name string) string {
		switch {
		case strings.Contains(strings.ToUpper(name), "SHA256"):
			return sum
		case name == "port":
			return "6688"
		}
		return "x-" + name
	})
}

// TestOperatorGuideBackendExamplesLoad: the configurations docs/operator.md
// shows with enabled_backends (its ini blocks, which the doc test does not
// run) load, with the backends they name.
func TestOperatorGuideBackendExamplesLoad(t *testing.T) {
	md, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "operator.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```ini\n(.*?)```").FindAllStringSubmatch(string(md), -1)
	want := [][]string{{"east", "west", "lab"}, {"ironic", "west"}}
	var got [][]string
	for _, b := range blocks {
		if !strings.Contains(b[1], "enabled_backends") {
			continue
		}
		cfg, err := Load(writeConf(t, noauth+b[1]), Overrides{})
		if err != nil {
			t.Errorf("%v\n%s", err, b[1])
			continue
		}
		var names []string
		for _, be := range cfg.Backends {
			names = append(names, be.Name)
		}
		got = append(got, names)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the guide's backends (-want +got):\n%s", diff)
	}
}
