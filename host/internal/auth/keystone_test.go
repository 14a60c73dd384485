package auth

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/testenv/keystone"
)

// counter counts the requests an Authenticator sends to Keystone.
type counter struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    map[string]int // "GET /v3/auth/tokens" -> count
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[r.Method+" "+r.URL.Path]++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

func (c *counter) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

const (
	logins      = "POST /v3/auth/tokens"
	validations = "GET /v3/auth/tokens"
)

func serviceConfig(ks *keystone.Keystone) KeystoneConfig {
	return KeystoneConfig{
		AuthType: "password", AuthURL: strings.TrimSuffix(ks.URL, "/v3"),
		Username: ks.Service.Name, Password: ks.Service.Password, ProjectName: ks.Service.Project,
		UserDomainName: keystone.DomainName, ProjectDomainName: keystone.DomainName,
	}
}

// newCounted returns a keystone Authenticator built by New whose requests
// are counted.
func newCounted(t *testing.T, cfg KeystoneConfig) (*Keystone, *counter) {
	t.Helper()
	a, err := New(t.Context(), Config{Strategy: "keystone", Keystone: cfg}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	k := a.(*Keystone)
	c := &counter{next: k.provider.HTTPClient.Transport, n: map[string]int{}}
	k.provider.HTTPClient.Transport = c
	return k, c
}

func authenticate(t *testing.T, a Authenticator, token string) (Caller, error) {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/manageable_servers", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		r.Header.Set("X-Auth-Token", token)
	}
	return a.Authenticate(t.Context(), r)
}

func token(t *testing.T, ks *keystone.Keystone, u keystone.User) string {
	t.Helper()
	tok, err := ks.Token(t.Context(), u.Name, u.Password, u.Project)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestKeystoneCallers: users, projects and roles come from the token.
func TestKeystoneCallers(t *testing.T) {
	ks := testKeystone
	k, _ := newCounted(t, serviceConfig(ks))
	tests := map[string]struct {
		user  keystone.User
		roles []string // Keystone adds implied roles: admin > member > reader
	}{
		"admin":  {ks.Admin, []string{"admin", "member", "reader"}},
		"member": {ks.Member, []string{"member", "reader"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tok := token(t, ks, tc.user)
			got, err := authenticate(t, k, tok)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got.Roles)
			want := Caller{
				UserID: tc.user.ID, UserName: tc.user.Name,
				ProjectID: tc.user.ProjectID, ProjectName: tc.user.Project,
				DomainID: "default", Roles: tc.roles, Token: tok,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("caller (-want +got):\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff(`Keystone uri="`+strings.TrimSuffix(ks.URL, "/v3")+`"`, k.Challenge()); diff != "" {
		t.Errorf("challenge (-want +got):\n%s", diff)
	}
}

// TestKeystoneRefused: every bad credential is a 401, never a 503.
func TestKeystoneRefused(t *testing.T) {
	ks := testKeystone
	k, _ := newCounted(t, serviceConfig(ks))
	admin := token(t, ks, ks.Admin)
	revoked := token(t, ks, ks.Member)
	if err := ks.Request(t.Context(), admin, http.MethodDelete, "/auth/tokens", nil, nil, "X-Subject-Token", revoked); err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"missing header":  "",
		"garbage":         "not-a-token",
		"fernet-shaped":   "gAAAAABrBxtNwDFJho5_YA5ST6RdgmNY-jNVaJQ8vNc0oay_GWRv5WAybfIyOYx7cn3s1B8qeNPdz8w",
		"revoked":         revoked,
		"too long":        strings.Repeat("a", maxTokenLen+1),
		"tampered admin":  admin[:len(admin)-4] + "AAAA",
		"unicode garbage": "токен",
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := authenticate(t, k, tok)
			if !errors.Is(err, ErrUnauthenticated) || errors.Is(err, ErrAuthUnavailable) {
				t.Fatalf("error %v, want ErrUnauthenticated", err)
			}
			if tok != "" && strings.Contains(err.Error(), tok) {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

// TestKeystoneCache: a token is validated once per TTL, refused tokens
// too, and concurrent requests with one token share one validation.
func TestKeystoneCache(t *testing.T) {
	ks := testKeystone
	k, count := newCounted(t, serviceConfig(ks))
	member := token(t, ks, ks.Member)
	for range 3 {
		if _, err := authenticate(t, k, member); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := authenticate(t, k, "bogus"); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("error %v, want ErrUnauthenticated", err)
		}
	}
	admin := token(t, ks, ks.Admin)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			c, err := authenticate(t, k, admin)
			if err == nil && !slices.Contains(c.Roles, "admin") {
				err = errors.New("admin token without the admin role")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int{logins: count.get(logins), validations: count.get(validations)}
	want := map[string]int{logins: 1, validations: 3} // member, bogus, admin
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests to Keystone (-want +got):\n%s", diff)
	}

	t.Run("disabled", func(t *testing.T) {
		cfg := serviceConfig(ks)
		cfg.CacheTTL = -1
		k, count := newCounted(t, cfg)
		for range 2 {
			if _, err := authenticate(t, k, member); err != nil {
				t.Fatal(err)
			}
		}
		if got := count.get(validations); got != 2 {
			t.Errorf("%d validations without a cache, want 2", got)
		}
	})
}

// TestKeystoneServiceTokenRevoked: when Keystone refuses the host's own
// token (401), the host logs in again and the request succeeds.
func TestKeystoneServiceTokenRevoked(t *testing.T) {
	ks := testKeystone
	k, count := newCounted(t, serviceConfig(ks))
	if _, err := authenticate(t, k, token(t, ks, ks.Member)); err != nil {
		t.Fatal(err)
	}
	k.svc.mu.Lock()
	svc := k.svc.token
	k.svc.mu.Unlock()
	admin := token(t, ks, ks.Admin)
	if err := ks.Request(t.Context(), admin, http.MethodDelete, "/auth/tokens", nil, nil, "X-Subject-Token", svc); err != nil {
		t.Fatal(err)
	}
	c, err := authenticate(t, k, admin)
	if err != nil {
		t.Fatal(err)
	}
	if c.UserID != ks.Admin.ID {
		t.Errorf("caller %v, want the admin", c)
	}
	if got := count.get(logins); got != 2 {
		t.Errorf("%d logins, want 2 (the second after the 401)", got)
	}
}

// TestKeystoneServiceMisconfigured: when the host itself cannot validate
// (wrong password, a user without the service role), callers get 503,
// not 401: their credentials may be fine.
func TestKeystoneServiceMisconfigured(t *testing.T) {
	ks := testKeystone
	wrongPassword := serviceConfig(ks)
	wrongPassword.Password = "wrong"
	noRole := serviceConfig(ks)
	noRole.Username, noRole.Password, noRole.ProjectName = ks.Member.Name, ks.Member.Password, ks.Member.Project
	wrongProject := serviceConfig(ks)
	wrongProject.ProjectName = "no-such-project"

	tests := map[string]struct {
		cfg  KeystoneConfig
		want string
	}{
		"wrong password":      {wrongPassword, "keystone refused the host's [keystone_authtoken] credentials (user mogan, project service)"},
		"no role to validate": {noRole, "keystone does not let user demo validate tokens (give it the service or admin role)"},
		"wrong project":       {wrongProject, "keystone refused the host's [keystone_authtoken] credentials (user mogan, project no-such-project)"},
	}
	admin := token(t, ks, ks.Admin)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			k, _ := newCounted(t, tc.cfg)
			_, err := authenticate(t, k, admin)
			if !errors.Is(err, ErrAuthUnavailable) || errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("error %v, want ErrAuthUnavailable", err)
			}
			if diff := cmp.Diff(ErrAuthUnavailable.Error()+": "+tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestKeystoneExpiryAndOutage runs its own Keystone whose tokens live a
// few seconds: an expired token is refused even though it was cached, the
// host's own expired token is renewed, and a stopped Keystone is a 503.
func TestKeystoneExpiryAndOutage(t *testing.T) {
	// Long enough that a loaded CI machine still validates a fresh token
	// before it expires; short enough to wait out.
	const lifetime = 8 * time.Second
	ks, err := keystone.Start(t.Context(), t.TempDir(), keystone.WithTokenExpiration(lifetime))
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Stop()
	k, count := newCounted(t, serviceConfig(ks))

	issued := time.Now()
	member := token(t, ks, ks.Member)
	if _, err := authenticate(t, k, member); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	time.Sleep(time.Until(issued.Add(lifetime + 1500*time.Millisecond)))
	if _, err := authenticate(t, k, member); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("expired token: error %v, want ErrUnauthenticated", err)
	}
	if _, err := authenticate(t, k, token(t, ks, ks.Member)); err != nil {
		t.Fatalf("new token after the service token expired: %v", err)
	}
	// At least one more login: the first service token has expired too
	// (more on a slow machine, where a token can near its end sooner).
	if got := count.get(logins); got < 2 {
		t.Errorf("%d logins, want a second one after the service token expired", got)
	}

	fresh := token(t, ks, ks.Admin)
	ks.Stop()
	if _, err := authenticate(t, k, fresh); !errors.Is(err, ErrAuthUnavailable) {
		t.Fatalf("Keystone stopped: error %v, want ErrAuthUnavailable", err)
	}
}
