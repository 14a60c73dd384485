package osclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

var errGlanceDown = errors.New("glance unavailable")

// lazyImageService is Glance as the host's client describes it.
var lazyImageService = osclient.Service{Name: "Glance", New: openstack.NewImageV2, Version: "v2", Unavailable: errGlanceDown}

func open(t *testing.T, section map[string]string) (*osclient.Lazy, error) {
	t.Helper()
	return osclient.Open(t.Context(), "glance", section, osclient.Spec{}, lazyImageService, hclog.NewNullLogger())
}

// keystoneDown is a password section whose Keystone does not answer.
func keystoneDown(authURL string) map[string]string {
	return map[string]string{
		"auth_type": "password", "auth_url": authURL, "username": "mogan", "password": "s3cret",
		"project_name": "service", "user_domain_name": "Default", "project_domain_name": "Default",
	}
}

// Open refuses a bad option, from Parse or from Connect, naming it as the
// configuration file spells it; Keystone down is no reason to refuse.
func TestOpenRefusesOptions(t *testing.T) {
	t.Setenv("OS_CLIENT_CONFIG_FILE", filepath.Join(t.TempDir(), "no-clouds.yaml"))
	tests := map[string]struct {
		section map[string]string
		want    string // the error's start
	}{
		"timeout":                  {map[string]string{"url": "http://127.0.0.1:9292", "timeout": "5s"}, "[glance] timeout: "},
		"cloud not in clouds.yaml": {map[string]string{"cloud": "nosuchcloud"}, "[glance] cloud: "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l, err := open(t, tc.section)
			var oe *osclient.OptionError
			if l != nil || err == nil || !strings.HasPrefix(err.Error(), tc.want) || !errors.As(err, &oe) {
				t.Errorf("Open = %v, want an OptionError starting %q", err, tc.want)
			}
		})
	}
}

// With Keystone down at start, Open succeeds and each use is the
// service's sentinel naming how the service is to be found, until the
// caller's own ctx ends: that is the caller's.
func TestLazyKeystoneDown(t *testing.T) {
	const authURL = "http://127.0.0.1:1/v3" // nothing listens on port 1
	l, err := open(t, keystoneDown(authURL))
	if err != nil {
		t.Fatal(err)
	}
	want := "Glance (from the Keystone catalog of " + authURL + ") is unavailable: image lookup: Keystone at " + authURL
	for range 2 { // not remembered: each use tries again
		_, err = l.Client(t.Context(), "image lookup")
		if !errors.Is(err, errGlanceDown) || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("err = %v, want the sentinel starting %q", err, want)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = l.Client(ctx, "image lookup")
	if !errors.Is(err, context.Canceled) || errors.Is(err, errGlanceDown) {
		t.Errorf("err = %v, want context.Canceled, not the sentinel", err)
	}
}

// testLazyKeystoneBack: a password Lazy whose Keystone is down at Open and
// answers later: the first use after that connects, and the connection is
// kept.
func testLazyKeystoneBack(t *testing.T, ksURL string, section map[string]string, glance *fakeGlance) {
	target, err := url.Parse(ksURL)
	if err != nil {
		t.Fatal(err)
	}
	var up atomic.Bool
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	section["auth_url"] = srv.URL + target.Path
	l, err := open(t, section)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Client(t.Context(), "image lookup"); !errors.Is(err, errGlanceDown) {
		t.Fatalf("Keystone down: err = %v, want the sentinel", err)
	}
	up.Store(true)
	sc, err := l.Client(t.Context(), "image lookup")
	if err != nil {
		t.Fatalf("Keystone back: %v", err)
	}
	if _, err := images.List(sc, nil).AllPages(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := glance.last(t); got.Path != "/v2/images" || got.Token == "" {
		t.Errorf("request %+v, want /v2/images with a token", got)
	}
	if want := "at " + glance.URL; l.Where() != want {
		t.Errorf("Where() = %q, want %q", l.Where(), want)
	}
	up.Store(false)
	if again, err := l.Client(t.Context(), "image lookup"); err != nil || again != sc {
		t.Errorf("Client after connecting = %p, %v; want the same client %p, without asking Keystone", again, err, sc)
	}
}

// A url that already names the version gets no second one.
func TestLazyVersionInURL(t *testing.T) {
	glance := newFakeGlance(t)
	for _, u := range []string{glance.URL + "/v2", glance.URL + "/v2/"} {
		l, err := open(t, map[string]string{"url": u})
		if err != nil {
			t.Fatal(err)
		}
		sc, err := l.Client(t.Context(), "image lookup")
		if err != nil {
			t.Fatal(err)
		}
		listImages(t, sc)
		if got := glance.last(t).Path; got != "/v2/images" {
			t.Errorf("url %s: request to %s, want /v2/images", u, got)
		}
	}
}

// Classify: what the service could not answer is its sentinel, a refusal
// carries the service's own message (Service.ErrorMessage), the caller's
// deadline is the caller's; every message names the service and its url.
func TestLazyClassify(t *testing.T) {
	svc := lazyImageService
	svc.ErrorMessage = func(body []byte) string {
		if s, ok := strings.CutPrefix(string(body), "glance says: "); ok {
			return s
		}
		return ""
	}
	tests := map[string]struct {
		status int
		body   string
		want   string // the message after "<url>", the sentinel unless it says "refused"
	}{
		"unauthorized":           {401, "no", " is unavailable: image lookup: HTTP 401: no"},
		"server error, one line": {500, "a\n  b", " is unavailable: image lookup: HTTP 500: a b"},
		"not the service's 404":  {404, "<html>nope</html>", " is unavailable: image lookup: HTTP 404: <html>nope</html>"},
		"refused":                {400, "glance says: bad filter", ": HTTP 400: bad filter"},
		"not json":               {200, "<html>login</html>", " is unavailable: image lookup: "},
		"long body shortened":    {503, strings.Repeat("x", 300), " is unavailable: image lookup: HTTP 503: " + strings.Repeat("x", 200) + "…"},
		"cut between characters": {503, "x" + strings.Repeat("é", 150), " is unavailable: image lookup: HTTP 503: x" + strings.Repeat("é", 99) + "…"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			l, err := osclient.Open(t.Context(), "glance", map[string]string{"url": srv.URL}, osclient.Spec{}, svc, nil)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := l.Client(t.Context(), "image lookup")
			if err != nil {
				t.Fatal(err)
			}
			_, err = images.List(sc, nil).AllPages(t.Context())
			err = l.Classify(t.Context(), "image lookup", err)
			refused := strings.HasPrefix(tc.want, ":")
			want := "Glance at " + srv.URL + tc.want
			if refused {
				want = "image lookup refused by Glance at " + srv.URL + tc.want
			}
			if err == nil || errors.Is(err, errGlanceDown) == refused || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("err = %v, want it to start %q (sentinel: %v)", err, want, !refused)
			}
		})
	}
	t.Run("caller's deadline", func(t *testing.T) {
		l, err := osclient.Open(t.Context(), "glance", map[string]string{"url": "http://127.0.0.1:9292"}, osclient.Spec{}, svc, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err = l.Classify(ctx, "image lookup", errors.New("whatever the transport said"))
		if !errors.Is(err, context.Canceled) || errors.Is(err, errGlanceDown) || !strings.Contains(err.Error(), "Glance at http://127.0.0.1:9292") {
			t.Errorf("err = %v, want context.Canceled naming Glance, not the sentinel", err)
		}
	})
}

// Callers that ask while a connection attempt hangs wait for that one
// attempt, each no longer than its own ctx, and do not start another.
func TestLazySharesTheAttempt(t *testing.T) {
	var requests atomic.Int32
	arrived, release := make(chan struct{}, 10), make(chan struct{})
	keystone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) > 1 { // Open's attempt is answered at once
			arrived <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer keystone.Close()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	section := keystoneDown(keystone.URL + "/v3")
	section["timeout"] = "10"
	l, err := open(t, section)
	if err != nil {
		t.Fatal(err)
	}

	first := make(chan error, 1)
	go func() { _, err := l.Client(t.Context(), "image lookup"); first <- err }()
	<-arrived // the attempt hangs in Keystone
	before := requests.Load()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	second := make(chan error, 1)
	go func() { _, err := l.Client(ctx, "image lookup"); second <- err }()
	select {
	case err := <-second:
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errGlanceDown) {
			t.Errorf("second caller: err = %v, want its own DeadlineExceeded", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("second caller still waiting 5s after its 100ms deadline")
		close(release)
		released = true
		<-second
	}
	if n := requests.Load(); n != before {
		t.Errorf("Keystone saw %d requests while an attempt was in flight, want %d: the second caller started its own", n, before)
	}
	if !released {
		close(release)
		released = true
	}
	if err := <-first; !errors.Is(err, errGlanceDown) {
		t.Errorf("first caller: err = %v, want the sentinel", err)
	}
}
