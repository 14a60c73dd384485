package keystone_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/testenv/keystone"
)

// TestStart starts Keystone, checks each user gets a token with the role
// it was given, and that Stop ends the process.
func TestStart(t *testing.T) {
	ks, err := keystone.Start(t.Context(), t.TempDir(), keystone.WithTokenExpiration(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Stop()

	admin, err := ks.AdminToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for name, u := range map[string]keystone.User{"admin": ks.Admin, "member": ks.Member, "service": ks.Service} {
		t.Run(name, func(t *testing.T) {
			tok, err := ks.Token(t.Context(), u.Name, u.Password, u.Project)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Token struct {
					User    struct{ ID string }
					Project struct{ ID, Name string }
					Roles   []struct{ Name string }
				}
			}
			if err := ks.Request(t.Context(), admin, http.MethodGet, "/auth/tokens", nil, &got, "X-Subject-Token", tok); err != nil {
				t.Fatal(err)
			}
			var roles []string
			for _, r := range got.Token.Roles {
				roles = append(roles, r.Name)
			}
			want := []string{u.ID, u.ProjectID, u.Project, "has true"}
			gotIDs := []string{got.Token.User.ID, got.Token.Project.ID, got.Token.Project.Name, fmt.Sprint("has ", slices.Contains(roles, u.Role))}
			if diff := cmp.Diff(want, gotIDs); diff != "" {
				t.Errorf("token (-want +got):\n%s\nroles %v", diff, roles)
			}
			if u.Role != "admin" && slices.Contains(roles, "admin") {
				t.Errorf("%s has the admin role: %v", u.Name, roles)
			}
		})
	}

	if _, err := ks.Token(t.Context(), ks.Member.Name, "wrong", ks.Member.Project); err == nil {
		t.Error("token with a wrong password: no error")
	}
	ks.Stop()
	if _, err := ks.AdminToken(t.Context()); err == nil {
		t.Error("Keystone still answers after Stop")
	}
}
