package osclient_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
	"github.com/mogan-manage/mogan-manage/testenv/keystone"
)

// fakeGlance answers every image listing with no images and records what
// each request carried.
type fakeGlance struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seen
}

type seen struct{ Path, Token, Authorization string }

func newFakeGlance(t *testing.T) *fakeGlance {
	f := &fakeGlance{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.seen = append(f.seen, seen{r.URL.Path, r.Header.Get("X-Auth-Token"), r.Header.Get("Authorization")})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/" { // gophercloud's version discovery of a catalog endpoint
			w.WriteHeader(http.StatusMultipleChoices)
			_, _ = w.Write([]byte(`{"versions": [{"id": "v2.9", "status": "CURRENT"}]}`))
			return
		}
		_, _ = w.Write([]byte(`{"images": []}`))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGlance) last(t *testing.T) seen {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) == 0 {
		t.Fatal("no request reached the service")
	}
	return f.seen[len(f.seen)-1]
}

var imageService = osclient.Service{Name: "Glance", New: openstack.NewImageV2}

func connect(t *testing.T, section map[string]string) (*gophercloud.ServiceClient, error) {
	t.Helper()
	o, err := osclient.Parse(section, osclient.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	return o.Connect(t.Context(), imageService)
}

func listImages(t *testing.T, sc *gophercloud.ServiceClient) {
	t.Helper()
	if _, err := images.List(sc, nil).AllPages(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestConnectWithoutKeystone(t *testing.T) {
	glance := newFakeGlance(t)
	tests := map[string]struct {
		section map[string]string
		want    seen
	}{
		"none": {map[string]string{"url": glance.URL}, seen{Path: "/v2/images"}},
		"http_basic": {
			map[string]string{"url": glance.URL + "/", "auth_type": "http_basic", "username": "glance", "password": "s3cret"},
			seen{Path: "/v2/images", Authorization: "Basic Z2xhbmNlOnMzY3JldA=="},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sc, err := connect(t, tc.section)
			if err != nil {
				t.Fatal(err)
			}
			listImages(t, sc)
			if diff := cmp.Diff(tc.want, glance.last(t)); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

// WrapTransport sees every request.
func TestConnectWrapsTheTransport(t *testing.T) {
	glance := newFakeGlance(t)
	o, err := osclient.Parse(map[string]string{"url": glance.URL}, osclient.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	svc := imageService
	svc.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) { n++; return rt.RoundTrip(r) })
	}
	sc, err := o.Connect(t.Context(), svc)
	if err != nil {
		t.Fatal(err)
	}
	listImages(t, sc)
	if n != 1 {
		t.Errorf("the wrapped transport saw %d requests, want 1", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Password authentication against a real Keystone: the service is found in
// the catalog by its type, url overrides it, and Keystone's refusals are
// KeystoneErrors without userinfo.
func TestConnectWithKeystone(t *testing.T) {
	ks, err := keystone.Start(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Stop()
	inCatalog, override := newFakeGlance(t), newFakeGlance(t)
	registerEndpoint(t, ks, "image", inCatalog.URL)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	registerEndpoint(t, ks, "network", down.URL)

	password := map[string]string{
		"auth_type": "password", "auth_url": ks.URL, "username": ks.Service.Name, "password": ks.Service.Password,
		"project_name": ks.Service.Project, "user_domain_name": keystone.DomainName, "project_domain_name": keystone.DomainName,
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range password {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	t.Run("catalog", func(t *testing.T) {
		sc, err := connect(t, password)
		if err != nil {
			t.Fatal(err)
		}
		listImages(t, sc)
		if got := inCatalog.last(t); got.Path != "/v2/images" || got.Token == "" {
			t.Errorf("request %+v, want /v2/images with a token", got)
		}
	})
	t.Run("domains by id", func(t *testing.T) {
		byID := with("user_domain_id", "default", "project_domain_id", "default")
		delete(byID, "user_domain_name")
		delete(byID, "project_domain_name")
		sc, err := connect(t, byID)
		if err != nil {
			t.Fatal(err)
		}
		listImages(t, sc)
		if got := inCatalog.last(t); got.Path != "/v2/images" || got.Token == "" {
			t.Errorf("request %+v, want /v2/images with a token", got)
		}
	})
	t.Run("url overrides the catalog", func(t *testing.T) {
		sc, err := connect(t, with("url", override.URL))
		if err != nil {
			t.Fatal(err)
		}
		listImages(t, sc)
		if got := override.last(t); got.Path != "/v2/images" || got.Token == "" {
			t.Errorf("request %+v, want /v2/images with a token", got)
		}
	})
	t.Run("clouds.yaml", func(t *testing.T) {
		cloudsYAML := filepath.Join(t.TempDir(), "clouds.yaml")
		yaml := fmt.Sprintf(`clouds:
  test:
    auth:
      auth_url: %s
      username: %s
      password: %s
      project_name: %s
      user_domain_name: Default
      project_domain_name: Default
`, ks.URL, ks.Service.Name, ks.Service.Password, ks.Service.Project)
		if err := os.WriteFile(cloudsYAML, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("OS_CLIENT_CONFIG_FILE", cloudsYAML)
		sc, err := connect(t, map[string]string{"cloud": "test"})
		if err != nil {
			t.Fatal(err)
		}
		listImages(t, sc)
		if got := inCatalog.last(t); got.Token == "" {
			t.Errorf("request %+v carries no token", got)
		}
		if _, err := connect(t, map[string]string{"cloud": "nosuchcloud"}); optionOf(err) != "cloud" {
			t.Errorf("unknown cloud: err = %v, want an OptionError naming cloud", err)
		}
	})
	t.Run("service missing from the catalog", func(t *testing.T) {
		o, err := osclient.Parse(password, osclient.Spec{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.Connect(t.Context(), osclient.Service{Name: "Ironic", New: openstack.NewBareMetalV1})
		var ke *osclient.KeystoneError
		if !errors.As(err, &ke) || ke.MissingType != "baremetal" || !strings.Contains(err.Error(), "no baremetal endpoint in the Keystone catalog of "+ks.URL) {
			t.Errorf("err = %v, want a KeystoneError about the missing baremetal endpoint", err)
		}
	})
	t.Run("service in the catalog is down", func(t *testing.T) {
		o, err := osclient.Parse(password, osclient.Spec{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.Connect(t.Context(), osclient.Service{Name: "Neutron", New: openstack.NewNetworkV2})
		var ke *osclient.KeystoneError
		var transport *url.Error
		if errors.As(err, &ke) || !errors.As(err, &transport) || !strings.Contains(err.Error(), "Neutron, found in the Keystone catalog") {
			t.Errorf("err = %v, want a transport error naming Neutron", err)
		}
	})
	t.Run("lazy: Keystone back after start", func(t *testing.T) {
		testLazyKeystoneBack(t, ks.URL, with(), inCatalog)
	})
	t.Run("wrong password", func(t *testing.T) {
		_, err := connect(t, with("password", "wrong"))
		var ke *osclient.KeystoneError
		if !errors.As(err, &ke) || !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) || ke.AuthURL != ks.URL {
			t.Errorf("err = %v, want a KeystoneError with Keystone's 401", err)
		}
	})
	t.Run("userinfo in auth_url is never shown", func(t *testing.T) {
		withUser := strings.Replace(ks.URL, "http://", "http://admin:s3cret@", 1)
		_, err := connect(t, with("auth_url", withUser, "password", "wrong"))
		if err == nil || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "admin:") {
			t.Errorf("err = %v, want an error without the userinfo", err)
		}
	})
}

func optionOf(err error) string {
	var oe *osclient.OptionError
	if errors.As(err, &oe) {
		return oe.Option
	}
	return ""
}

// registerEndpoint adds a service of type typ with a public endpoint in
// RegionOne to Keystone's catalog.
func registerEndpoint(t *testing.T, ks *keystone.Keystone, typ, url string) {
	t.Helper()
	token, err := ks.AdminToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var svc struct{ Service struct{ ID string } }
	body := map[string]any{"service": map[string]any{"type": typ, "name": typ}}
	if err := ks.Request(t.Context(), token, http.MethodPost, "/services", body, &svc); err != nil {
		t.Fatal(err)
	}
	body = map[string]any{"endpoint": map[string]any{
		"service_id": svc.Service.ID, "interface": "public", "url": url, "region_id": "RegionOne",
	}}
	if err := ks.Request(t.Context(), token, http.MethodPost, "/endpoints", body, nil); err != nil {
		t.Fatal(err)
	}
}
