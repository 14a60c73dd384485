package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestStartupWarnsWithoutPublicEndpoint is issue 8 row 9's warning: links
// follow the caller's Host when [api] public_endpoint is unset, which is
// only safe when nobody else can reach the API; listening beyond loopback
// without public_endpoint is warned about at start.
func TestStartupWarnsWithoutPublicEndpoint(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(t.TempDir(), "htpasswd")
	writeFile(t, users, "admin:"+string(hash)+"\n")
	const warning = "[api] public_endpoint is not set and the API listens on a non-loopback address"
	tests := map[string]struct {
		api  string
		warn bool
	}{
		"all addresses, no public_endpoint": {api: "host_ip = 0.0.0.0\n", warn: true},
		"all addresses, public_endpoint":    {api: "host_ip = 0.0.0.0\npublic_endpoint = https://mogan.example:6688\n"},
		"loopback":                          {api: "host_ip = 127.0.0.1\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// Only 127.0.0.1 is ever sent to; HTTP basic, so that the
			// listener beyond loopback is not an open admin API meanwhile.
			conf := fmt.Sprintf("[DEFAULT]\nauth_strategy = http_basic\nhttp_basic_auth_user_file = %s\n"+
				"[api]\n%sport = %d\n[database]\nconnection = sqlite://%s\n[driver]\nname = noop\nplugin_dir = %s\n",
				users, tc.api, freePort(t), filepath.Join(t.TempDir(), "mogan.sqlite"), binDir)
			h := startHost(t, conf)
			h.stop(t)
			if got := strings.Contains(h.logs.String(), warning); got != tc.warn {
				t.Errorf("warning logged: %v; want %v\n%s", got, tc.warn, h.logs)
			}
		})
	}
}

// TestStartupRefusalsNameTheCulprit is issue 8's "also" list: a malformed
// INI file is refused naming the line, and keystoneauth credentials
// without their domains are refused at start (not at first use), naming
// the option to set.
func TestStartupRefusalsNameTheCulprit(t *testing.T) {
	keystone := "auth_type = password\nauth_url = http://127.0.0.1:5000/v3\nusername = mogan\npassword = pw\n"
	tests := map[string]struct {
		extra string
		want  []string
	}{
		"malformed INI": {
			extra: "name = noop\nthis line is not an option\n",
			want:  []string{"mogan.conf: line %d: malformed INI"}, // %d: that line's number
		},
		"[ironic] project_name without project_domain_name": {
			extra: "name = ironic\n[ironic]\nurl = http://127.0.0.1:6385\n" + keystone + "project_name = service\nuser_domain_name = Default\n",
			want:  []string{"[ironic]", "project_domain_name", "project_domain_name = Default"},
		},
		"[ironic] username without user_domain_name": {
			extra: "name = ironic\n[ironic]\nurl = http://127.0.0.1:6385\n" + keystone + "project_name = service\nproject_domain_name = Default\n",
			want:  []string{"[ironic]", "user_domain_name", "user_domain_name = Default"},
		},
		"[glance] project_name without project_domain_name": {
			extra: "name = noop\n[glance]\nurl = http://127.0.0.1:9292\n" + keystone + "project_name = service\nuser_domain_name = Default\n",
			want:  []string{"[glance] project_domain_name", "project_domain_name = Default"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			conf := hostConfig(t, "", "[driver]\n"+tc.extra)
			last := lastLine(runToFailure(t, conf))
			badLine := strings.Count(conf[:strings.Index(conf+"this line", "this line")], "\n") + 1
			for _, w := range tc.want {
				if strings.Contains(w, "%d") {
					w = fmt.Sprintf(w, badLine)
				}
				if !strings.Contains(last, w) {
					t.Errorf("last line %q does not contain %q", last, w)
				}
			}
		})
	}
}
