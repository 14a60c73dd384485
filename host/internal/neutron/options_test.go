package neutron_test

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
)

// closedURL is a loopback URL nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

// TestNewOptions: every refused [neutron] option is named as the
// configuration file spells it.
func TestNewOptions(t *testing.T) {
	const url = "http://127.0.0.1:9696"
	tests := []struct {
		name       string
		opts       map[string]string
		wantPrefix string
	}{
		{"no url", map[string]string{}, "[neutron] url: "},
		{"url not http", map[string]string{"url": "ftp://neutron"}, "[neutron] url: "},
		{"unknown auth_type", map[string]string{"url": url, "auth_type": "token"}, "[neutron] auth_type: "},
		{"unknown option", map[string]string{"url": url, "endpoint": url}, "[neutron] endpoint: unknown option"},
		{"zero timeout", map[string]string{"url": url, "timeout": "0"}, "[neutron] timeout: "},
		{"bad insecure", map[string]string{"url": url, "insecure": "maybe"}, "[neutron] insecure: "},
		{"missing cafile", map[string]string{"url": url, "cafile": "/nonexistent/ca.pem"}, "[neutron] cafile: "},
		{"http_basic without username", map[string]string{"url": url, "auth_type": "http_basic", "password": "p"}, "[neutron] username: "},
		{"password without password", map[string]string{"auth_type": "password", "auth_url": url, "username": "u"}, "[neutron] password: "},
		{"cloud and auth_type", map[string]string{"cloud": "c", "auth_type": "none"}, "[neutron] auth_type: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := neutron.New(t.Context(), tt.opts, hclog.NewNullLogger(), nil)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantPrefix) {
				t.Errorf("err %v, want it to start with %q", err, tt.wantPrefix)
			}
		})
	}

	t.Run("url with the version", func(t *testing.T) {
		// A url that already ends in /v2.0 must not get a second one.
		client := newClient(t, testNeutron.URL+"/v2.0")
		if _, err := client.Ports(t.Context(), []string{"5f0c6f3e-4a47-4a63-9d0a-cc8a2d7d1e01"}); err != nil {
			t.Error(err)
		}
	})
}

// A Keystone that is down at start does not stop New; each call is
// ErrUnavailable until it is back, naming where Neutron was to be found.
func TestKeystoneDownAtStart(t *testing.T) {
	authURL := closedURL(t) + "/v3"
	c, err := neutron.New(t.Context(), map[string]string{
		"auth_type": "password", "auth_url": authURL, "username": "mogan", "password": "s3cret",
		"project_name": "service", "user_domain_name": "Default", "project_domain_name": "Default",
	}, hclog.NewNullLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const id = "5f0c6f3e-4a47-4a63-9d0a-cc8a2d7d1e01"
	_, listErr := c.Ports(t.Context(), []string{id})
	_, bindErr := c.Bind(t.Context(), id, "node", "baremetal")
	want := "Neutron (from the Keystone catalog of " + authURL + ") is unavailable"
	for name, err := range map[string]error{"Ports": listErr, "Bind": bindErr} {
		if !errors.Is(err, neutron.ErrUnavailable) || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: err = %v, want ErrUnavailable starting %q", name, err, want)
		}
	}
}
