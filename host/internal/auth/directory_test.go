package auth

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
)

// TestKeystoneDirectory: projects and users are looked up with the host's
// own token; a service user Keystone does not let read them is a 503
// naming the fix, never a "not found".
func TestKeystoneDirectory(t *testing.T) {
	ks := testKeystone
	// Keystone's identity:get_project and identity:get_user want the
	// admin role of a project-scoped token (or a system reader).
	svc, err := ks.AddUser(t.Context(), "mogan-directory", ks.Service.Project, "admin")
	if err != nil {
		t.Fatal(err)
	}
	cfg := serviceConfig(ks)
	cfg.Username, cfg.Password = svc.Name, svc.Password
	k, _ := newCounted(t, cfg)

	type lookup struct {
		Exists bool
		Err    string
	}
	check := func(exists bool, err error) lookup {
		l := lookup{Exists: exists}
		if err != nil {
			l.Err = err.Error()
		}
		return l
	}
	got := map[string]lookup{
		"member's project": check(k.ProjectExists(t.Context(), ks.Member.ProjectID)),
		"unknown project":  check(k.ProjectExists(t.Context(), "0123456789abcdef0123456789abcdef")),
		"member":           check(k.UserExists(t.Context(), ks.Member.ID)),
		"unknown user":     check(k.UserExists(t.Context(), "no-such-user")),
	}
	want := map[string]lookup{
		"member's project": {Exists: true},
		"unknown project":  {},
		"member":           {Exists: true},
		"unknown user":     {},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("look-ups (-want +got):\n%s", diff)
	}

	t.Run("service role only", func(t *testing.T) {
		k, _ := newCounted(t, serviceConfig(ks))
		_, err := k.ProjectExists(t.Context(), ks.Member.ProjectID)
		if !errors.Is(err, ErrAuthUnavailable) {
			t.Fatalf("error %v, want ErrAuthUnavailable", err)
		}
		want := ErrAuthUnavailable.Error() + ": keystone does not let user mogan read projects (give it the admin role)"
		if diff := cmp.Diff(want, err.Error()); diff != "" {
			t.Errorf("error (-want +got):\n%s", diff)
		}
	})
}

// TestKeystoneDomainIDs: the host logs in with its domains named by id
// (keystoneauth's user_domain_id, project_domain_id).
func TestKeystoneDomainIDs(t *testing.T) {
	ks := testKeystone
	cfg := serviceConfig(ks)
	cfg.UserDomainName, cfg.ProjectDomainName = "", ""
	cfg.UserDomainID, cfg.ProjectDomainID = "default", "default"
	k, count := newCounted(t, cfg)
	c, err := authenticate(t, k, token(t, ks, ks.Member))
	if err != nil {
		t.Fatal(err)
	}
	if c.UserID != ks.Member.ID || count.get(logins) != 1 {
		t.Errorf("caller %v after %d logins; want the member after 1", c, count.get(logins))
	}
	cfg.UserDomainID = "no-such-domain"
	k, _ = newCounted(t, cfg)
	if _, err := authenticate(t, k, token(t, ks, ks.Member)); !errors.Is(err, ErrAuthUnavailable) {
		t.Errorf("login in an unknown domain: error %v, want ErrAuthUnavailable", err)
	}
}

// TestDirectoryFaults: Keystone failing or unreachable during a look-up
// is ErrAuthUnavailable (503), never "not found".
func TestDirectoryFaults(t *testing.T) {
	tests := map[string]http.HandlerFunc{
		"500":       func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
		"401 twice": func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) },
		"not json":  func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>proxy error</html>")) },
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			k, err := newKeystone(t.Context(), fakeConfig(fakeKeystone(t, h).URL), hclog.NewNullLogger())
			if err != nil {
				t.Fatal(err)
			}
			if found, err := k.ProjectExists(t.Context(), "p1"); found || !errors.Is(err, ErrAuthUnavailable) {
				t.Errorf("ProjectExists = %v, %v; want ErrAuthUnavailable", found, err)
			}
		})
	}
	t.Run("stopped", func(t *testing.T) {
		srv := fakeKeystone(t, func(http.ResponseWriter, *http.Request) {})
		k, err := newKeystone(t.Context(), fakeConfig(srv.URL), hclog.NewNullLogger())
		if err != nil {
			t.Fatal(err)
		}
		srv.Close()
		if found, err := k.UserExists(t.Context(), "u1"); found || !errors.Is(err, ErrAuthUnavailable) {
			t.Errorf("UserExists = %v, %v; want ErrAuthUnavailable", found, err)
		}
	})
}
