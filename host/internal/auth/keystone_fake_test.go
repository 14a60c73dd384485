package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
)

// fakeKeystone answers logins with a service token and validations with
// validate, for errors a real Keystone cannot be made to produce.
func fakeKeystone(t *testing.T, validate http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.Header().Set("X-Subject-Token", "svc")
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"token": {"expires_at": "` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano) + `"}}`))
			return
		}
		validate(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func fakeConfig(url string) KeystoneConfig {
	return KeystoneConfig{AuthURL: url + "/v3/", Username: "mogan", Password: "pw", ProjectName: "service", Timeout: 2 * time.Second}
}

const goodToken = `{"token": {"expires_at": "2999-01-01T00:00:00.000000Z",
	"user": {"id": "u1", "name": "alice", "domain": {"id": "default"}},
	"project": {"id": "p1", "name": "demo"}, "roles": [{"name": "member"}]}}`

// TestKeystoneFaults: whatever goes wrong on Keystone's side is
// ErrAuthUnavailable (503), never a 401 or a panic.
func TestKeystoneFaults(t *testing.T) {
	tests := map[string]http.HandlerFunc{
		"500": func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
		"503": func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) },
		"not json": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<html>proxy error</html>"))
		},
		"no user": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"token": {"expires_at": "2999-01-01T00:00:00Z"}}`))
		},
		"bad expires_at": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(strings.Replace(goodToken, "2999-01-01T00:00:00.000000Z", "tomorrow", 1)))
		},
		"401 twice": func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) },
		"hangs past the timeout": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		},
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := fakeConfig(fakeKeystone(t, h).URL)
			cfg.Timeout = 300 * time.Millisecond
			k, err := newKeystone(t.Context(), cfg, hclog.NewNullLogger())
			if err != nil {
				t.Fatal(err)
			}
			_, err = authenticate(t, k, "user-token")
			if !errors.Is(err, ErrAuthUnavailable) || errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("error %v, want ErrAuthUnavailable", err)
			}
		})
	}
}

// TestKeystoneCacheOutlivesOutage: a token validated before Keystone went
// away keeps working until its cache entry ends; new tokens get 503.
func TestKeystoneCacheOutlivesOutage(t *testing.T) {
	srv := fakeKeystone(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Token") != "svc" || r.Header.Get("X-Subject-Token") != "good" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(goodToken))
	})
	k, err := newKeystone(t.Context(), fakeConfig(srv.URL), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	want := Caller{UserID: "u1", UserName: "alice", ProjectID: "p1", ProjectName: "demo", DomainID: "default", Roles: []string{"member"}, Token: "good"}
	got, err := authenticate(t, k, "good")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("caller (-want +got):\n%s", diff)
	}
	srv.Close()
	got, err = authenticate(t, k, "good")
	if err != nil {
		t.Fatalf("cached token during the outage: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cached caller (-want +got):\n%s", diff)
	}
	if _, err := authenticate(t, k, "new"); !errors.Is(err, ErrAuthUnavailable) {
		t.Errorf("new token during the outage: error %v, want ErrAuthUnavailable", err)
	}
}

// TestKeystoneCallerGivesUp: a client that goes away stops waiting, and
// its validation still completes for others.
func TestKeystoneCallerGivesUp(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	srv := fakeKeystone(t, func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		<-release
		_, _ = w.Write([]byte(goodToken))
	})
	k, err := newKeystone(t.Context(), fakeConfig(srv.URL), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-Auth-Token", "good")
	done := make(chan error)
	go func() {
		_, err := k.Authenticate(ctx, r)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, ErrAuthUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want ErrAuthUnavailable and context.Canceled", err)
	}
	close(release)
	if _, err := authenticate(t, k, "good"); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n > 2 {
		t.Errorf("%d validations, want at most 2", n)
	}
}

// TestKeystoneConfigErrors: refused by New, so the host does not start.
func TestKeystoneConfigErrors(t *testing.T) {
	ok := KeystoneConfig{AuthURL: "http://127.0.0.1:5000", Username: "mogan", Password: "pw", ProjectName: "service"}
	badCA := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(badCA, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		mod  func(*KeystoneConfig)
		want string
	}{
		"auth_type":     {func(c *KeystoneConfig) { c.AuthType = "v3token" }, `[keystone_authtoken] auth_type "v3token" is not supported (only password)`},
		"no auth_url":   {func(c *KeystoneConfig) { c.AuthURL = "" }, "[keystone_authtoken] auth_url is required"},
		"bad auth_url":  {func(c *KeystoneConfig) { c.AuthURL = "keystone:5000" }, `[keystone_authtoken] auth_url "keystone:5000" is not an http(s) URL`},
		"v2.0":          {func(c *KeystoneConfig) { c.AuthURL = "http://k:5000/v2.0/" }, `[keystone_authtoken] auth_url "http://k:5000/v2.0/": Identity v2.0 is not supported, use v3`},
		"no password":   {func(c *KeystoneConfig) { c.Password = "" }, "[keystone_authtoken] username, password and project_name are required"},
		"no project":    {func(c *KeystoneConfig) { c.ProjectName = "" }, "[keystone_authtoken] username, password and project_name are required"},
		"missing CA":    {func(c *KeystoneConfig) { c.CAFile = "/nonexistent/ca.pem" }, "[keystone_authtoken] cafile: open /nonexistent/ca.pem: no such file or directory"},
		"not a CA file": {func(c *KeystoneConfig) { c.CAFile = badCA }, "[keystone_authtoken] cafile " + badCA + ": no PEM certificates"},
		"user domain twice": {func(c *KeystoneConfig) { c.UserDomainName, c.UserDomainID = "Default", "default" },
			"[keystone_authtoken] user_domain_name and user_domain_id are both set: set one of them"},
		"project domain twice": {func(c *KeystoneConfig) { c.ProjectDomainName, c.ProjectDomainID = "Default", "default" },
			"[keystone_authtoken] project_domain_name and project_domain_id are both set: set one of them"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := ok
			tc.mod(&cfg)
			_, err := New(t.Context(), Config{Strategy: "keystone", Keystone: cfg}, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}

	for name, url := range map[string]string{"bare": "http://k:5000", "slash": "http://k:5000/", "v3": "http://k:5000/v3", "v3 slash": "http://k:5000/v3/", "path": "https://k/identity"} {
		t.Run("auth_url "+name, func(t *testing.T) {
			got, err := identityV3(url)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(url, "/"), "/v3"), "/") + "/v3"
			if got != want {
				t.Errorf("identityV3(%q) = %q, want %q", url, got, want)
			}
		})
	}
}

// TestTokenCacheBound: the cache never holds more than its size, and
// drops the least recently used entry first.
func TestTokenCacheBound(t *testing.T) {
	c := newTokenCache(2)
	now := time.Now()
	later := now.Add(time.Hour)
	c.put("a", Caller{UserID: "a"}, true, later)
	c.put("b", Caller{UserID: "b"}, true, later)
	if _, _, ok := c.get("a", now); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.put("c", Caller{UserID: "c"}, true, later)
	got := map[string]bool{}
	for _, k := range []string{"a", "b", "c"} {
		_, _, got[k] = c.get(k, now)
	}
	if diff := cmp.Diff(map[string]bool{"a": true, "b": false, "c": true}, got); diff != "" {
		t.Errorf("cached (-want +got):\n%s", diff)
	}
	if c.len() != 2 {
		t.Errorf("len %d, want 2", c.len())
	}
	if _, _, ok := c.get("a", later); ok {
		t.Error("entry served at its expiry")
	}
}
