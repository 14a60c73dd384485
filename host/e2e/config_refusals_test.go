package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestOutOfRangeDurationsAndBadHostAreRefused (issue 15, finding 8):
// call_timeout = 36028797018963971 passed check-config and meant 3 s;
// host = "my host" and host = "" passed too. Each is refused by
// check-config and at start, with the same one line naming the file, the
// section, the option and what is wrong.
func TestOutOfRangeDurationsAndBadHostAreRefused(t *testing.T) {
	tests := map[string]struct {
		defaults string // added to [DEFAULT]
		extra    string // appended to the [driver] section
		want     string
	}{
		"call_timeout overflowing to 3 s": {
			extra: "name = noop\ncall_timeout = 36028797018963971\n",
			want:  `mogan.conf: [driver] call_timeout: "36028797018963971" is out of range: a duration is at most 86400 seconds (1 day)`,
		},
		"a day and a second": {
			extra: "name = noop\n[manage]\nreconcile_interval = 86401\n",
			want:  `mogan.conf: [manage] reconcile_interval: "86401" is out of range: a duration is at most 86400 seconds (1 day)`,
		},
		"client_socket_timeout": {
			defaults: "client_socket_timeout = 9223372036854775807\n", extra: "name = noop\n",
			want: `mogan.conf: [DEFAULT] client_socket_timeout: "9223372036854775807" is out of range`,
		},
		"a Neutron timeout": {
			extra: "name = noop\n[neutron]\ntimeout = 100000\n",
			want:  `mogan.conf: [neutron] timeout: "100000" is out of range`,
		},
		"host with a space": {
			defaults: "host = my host\n", extra: "name = noop\n",
			want: `mogan.conf: [DEFAULT] host: "my host" holds white space: it names this replica in the intent log`,
		},
		"empty host": {
			defaults: "host =\n", extra: "name = noop\n",
			want: "mogan.conf: [DEFAULT] host: is empty: it names this replica in the intent log",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mogan.conf")
			conf := hostConfig(t, "", tc.extra)
			conf = strings.Replace(conf, "[DEFAULT]\n", "[DEFAULT]\n"+tc.defaults, 1)
			writeFile(t, path, conf)
			for _, args := range [][]string{{"check-config", "--config-file", path}, {"--config-file", path}} {
				stdout, stderr, code := admin(t, args...)
				if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
					t.Fatalf("mogan-api %s: exit %d, want 2 and one line\nstdout:\n%s\nstderr:\n%s", args[0], code, stdout, stderr)
				}
				if !strings.Contains(stderr, tc.want) {
					t.Errorf("mogan-api %s: %q does not say %q", args[0], stderr, tc.want)
				}
			}
		})
	}
}
