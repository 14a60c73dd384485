package auth_test

import (
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
)

// TestKeystoneNeverShowsURLUserinfo: the challenge anonymous callers get
// and the error of an unreachable Keystone (shown to callers as a 503)
// carry no user:password@ of the configured URLs (issue 8 row 4).
func TestKeystoneNeverShowsURLUserinfo(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	_ = l.Close() // nothing listens there now
	tests := map[string]struct {
		authURL, wwwURI string
		wantChallenge   string
	}{
		"www_authenticate_uri": {
			authURL: "http://ksuser:kspass@" + dead + "/v3", wwwURI: "http://wwwuser:wwwpass@keystone.example/identity",
			wantChallenge: `Keystone uri="http://keystone.example/identity"`,
		},
		"auth_url as the challenge": {
			authURL:       "http://ksuser:kspass@" + dead + "/v3",
			wantChallenge: fmt.Sprintf(`Keystone uri="http://%s/v3"`, dead),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a, err := auth.New(t.Context(), auth.Config{Strategy: "keystone", Keystone: auth.KeystoneConfig{
				AuthURL: tc.authURL, WWWAuthenticateURI: tc.wwwURI, Username: "mogan", Password: "pw", ProjectName: "service",
			}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Challenge(); got != tc.wantChallenge {
				t.Errorf("challenge %q; want %q", got, tc.wantChallenge)
			}
			r := httptest.NewRequest("GET", "/v1/servers", nil)
			r.Header.Set("X-Auth-Token", "token")
			_, err = a.Authenticate(t.Context(), r)
			if err == nil || !strings.Contains(err.Error(), dead) {
				t.Fatalf("Authenticate with Keystone down: %v; want an error naming %s", err, dead)
			}
			for _, secret := range []string{"ksuser", "kspass", "wwwuser", "wwwpass"} {
				if strings.Contains(err.Error(), secret) || strings.Contains(a.Challenge(), secret) {
					t.Errorf("%q shown: challenge %q, error %q", secret, a.Challenge(), err)
				}
			}
		})
	}
}
