package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestKeystoneDomainByNameOrID: [keystone_authtoken] takes keystoneauth's
// *_domain_id beside *_domain_name; the name's default ("Default") gives
// way to an id set in the file, and a file setting both keeps both, so
// that the auth package refuses them at start.
func TestKeystoneDomainByNameOrID(t *testing.T) {
	type domains struct{ UserName, UserID, ProjectName, ProjectID string }
	tests := map[string]struct {
		body string
		want domains
	}{
		"defaults":     {"", domains{"Default", "", "Default", ""}},
		"names":        {"user_domain_name = ldap\nproject_domain_name = proj\n", domains{"ldap", "", "proj", ""}},
		"ids":          {"user_domain_id = default\nproject_domain_id = 7f3a\n", domains{"", "default", "", "7f3a"}},
		"user id only": {"user_domain_id = default\n", domains{"", "default", "Default", ""}},
		"both set":     {"user_domain_name = Default\nuser_domain_id = default\n", domains{"Default", "default", "Default", ""}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(writeConf(t, "[DEFAULT]\nauth_strategy = keystone\n[keystone_authtoken]\nauth_url = http://127.0.0.1:5000\n"+tc.body), Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			k := cfg.Keystone
			got := domains{k.UserDomainName, k.UserDomainID, k.ProjectDomainName, k.ProjectDomainID}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("domains (-want +got):\n%s", diff)
			}
		})
	}
}
