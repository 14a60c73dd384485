package ironicdriver

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/drivertest"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

func TestUnitConfigureRefusesBadOptions(t *testing.T) {
	url := map[string]string{"url": "http://127.0.0.1:6385"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range url {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		options    map[string]string
		wantOption string // "" = accepted
	}{
		"url alone":                 {url, ""},
		"everything":                {with("timeout", "5", "api_version", "1.82", "insecure", "True", "auth_type", "none"), ""},
		"http_basic":                {with("auth_type", "http_basic", "username", "u", "password", "p"), ""},
		"password via keystone":     {map[string]string{"auth_type": "password", "auth_url": "http://k:5000/v3", "username": "u", "password": "p", "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"}, ""},
		"password unscoped":         {map[string]string{"auth_type": "password", "auth_url": "http://k:5000/v3", "username": "u", "password": "p", "user_domain_name": "Default"}, ""},
		"user_domain_name missing":  {map[string]string{"auth_type": "password", "auth_url": "http://k:5000/v3", "username": "u", "password": "p", "project_name": "admin", "project_domain_name": "Default"}, "user_domain_name"},
		"project_domain missing":    {map[string]string{"auth_type": "password", "auth_url": "http://k:5000/v3", "username": "u", "password": "p", "project_name": "admin", "user_domain_name": "Default"}, "project_domain_name"},
		"unknown option":            {with("endpoint", "x"), "endpoint"},
		"no url":                    {map[string]string{}, "url"},
		"bad url":                   {map[string]string{"url": "ironic:6385"}, "url"},
		"bad auth_type":             {with("auth_type", "token"), "auth_type"},
		"http_basic needs password": {with("auth_type", "http_basic", "username", "u"), "password"},
		"password needs auth_url":   {map[string]string{"auth_type": "password", "username": "u", "password": "p"}, "auth_url"},
		"timeout not a number":      {with("timeout", "5s"), "timeout"},
		"timeout zero":              {with("timeout", "0"), "timeout"},
		"api_version garbage":       {with("api_version", "latest"), "api_version"},
		"api_version too old":       {with("api_version", "1.20"), "api_version"},
		"insecure not a boolean":    {with("insecure", "maybe"), "insecure"},
		"cafile missing":            {with("cafile", "/nonexistent/ca.pem"), "cafile"},
		"cafile not PEM":            {with("cafile", notPEM), "cafile"},
		"cloud with auth_type":      {map[string]string{"cloud": "c", "auth_type": "none"}, "auth_type"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := newDriver(nil).Configure(t.Context(), tc.options)
			if tc.wantOption == "" {
				if err != nil {
					t.Errorf("Configure(%v) = %v, want success", tc.options, err)
				}
				return
			}
			if !errors.Is(err, driver.ErrInvalidArgument) || driver.OptionOf(err) != tc.wantOption {
				t.Errorf("Configure(%v) = %v (option %q), want InvalidOption %q", tc.options, err, driver.OptionOf(err), tc.wantOption)
			}
		})
	}
}

// Through the plugin process, the option at fault survives the trip.
func TestPluginReportsTheBadOption(t *testing.T) {
	d := launch(t)
	err := d.Configure(t.Context(), map[string]string{"url": ironicEnv(t).ironic.URL, "timeout": "soon"})
	if diff := cmp.Diff("timeout", driver.OptionOf(err)); diff != "" || !errors.Is(err, driver.ErrInvalidArgument) {
		t.Errorf("err = %v; option (-want +got):\n%s", err, diff)
	}
}

// Every request carries the configured microversion, and http_basic its
// credentials.
func TestUnitRequestHeaders(t *testing.T) {
	type seen struct{ Version, User, Password string }
	got := make(chan seen, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		got <- seen{r.Header.Get("X-OpenStack-Ironic-API-Version"), u, p}
		_, _ = w.Write([]byte(`{"nodes": [], "ports": [], "portgroups": []}`))
	}))
	defer srv.Close()
	d := newDriver(nil)
	if err := d.Configure(t.Context(), map[string]string{"url": srv.URL, "auth_type": "http_basic",
		"username": "ironic", "password": "s3cret", "api_version": "1.78"}); err != nil {
		t.Fatal(err)
	}
	if err := d.ListManageableNodes(t.Context(), driver.ListOptions{}, func(driver.Node) error { return nil }); err != nil {
		t.Fatal(err)
	}
	close(got)
	n := 0
	for s := range got {
		n++
		if diff := cmp.Diff(seen{"1.78", "ironic", "s3cret"}, s); diff != "" {
			t.Errorf("request headers (-want +got):\n%s", diff)
		}
	}
	if n == 0 {
		t.Error("no request reached Ironic")
	}
}

// An Ironic that has stopped: every call is Unavailable and names the URL.
func TestStoppedIronicIsUnavailable(t *testing.T) {
	s, err := ironic.Start(t.Context(), ironic.Options{Dir: filepath.Join(t.TempDir(), "ironic"), DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	p := launch(t) // configured for the package's Ironic; reconfigure:
	if err := p.Configure(t.Context(), map[string]string{"url": s.URL}); err != nil {
		t.Fatal(err)
	}
	req := driver.ManageRequest{NodeUUID: uuid.NewString(), ServerUUID: uuid.NewString()}
	calls := map[string]func() error{
		"list": func() error {
			return p.ListManageableNodes(t.Context(), driver.ListOptions{}, func(driver.Node) error { return nil })
		},
		"get":      func() error { _, err := p.GetManageableNode(t.Context(), req.NodeUUID); return err },
		"manage":   func() error { _, err := p.Manage(t.Context(), req); return err },
		"unmanage": func() error { return p.Unmanage(t.Context(), req) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if !errors.Is(err, driver.ErrUnavailable) || !strings.Contains(err.Error(), s.URL) {
				t.Errorf("err = %v, want ErrUnavailable naming %s", err, s.URL)
			}
		})
	}
	// and the plugin itself keeps serving once Ironic is back
	if err := p.Configure(t.Context(), options(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.GetManageableNode(t.Context(), fixtureOf(t, ironic.KindAdoptable)[0].UUID); err != nil {
		t.Errorf("after reconfiguring: %v", err)
	}
}

// The SDK's conformance kit passes for the built plugin, a whole adoption
// of a real node included (the kit releases it: the test Ironic is ours),
// and the enroll capability's rules with fake-hardware machines, every
// request the plugin makes going through a recording proxy that checks
// none touches a machine.
func TestConformance(t *testing.T) {
	rec, err := ironicEnv(t).ironic.Recorder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rec.Close() })
	taken := fixtureOf(t, ironic.KindAdoptable)[0]
	drivertest.Run(t, drivertest.Config{
		Path:    ironicEnv(t).plugin,
		Options: map[string]string{"url": rec.URL},
		Adopt:   true,
		Enroll: &drivertest.EnrollConfig{
			Machine: func() (driver.Machine, map[string]string) {
				req := enrollRequest()
				return req.Machine, req.Secrets
			},
			TakenMAC:    taken.Ports[0].Address,
			TakenName:   taken.Name,
			ForeignNode: fixtureOf(t, ironic.KindMaintenance)[0].UUID,
		},
		Observer: rec,
	})
}
