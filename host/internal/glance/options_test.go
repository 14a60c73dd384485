package glance_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/glance"
)

func TestNewRefusesBadOptions(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", filepath.Join(t.TempDir(), "no-clouds.yaml"))
	const url = "http://127.0.0.1:9292"
	tests := map[string]struct {
		options    map[string]string
		wantOption string
	}{
		"unknown option":            {map[string]string{"url": url, "endpoint": "x"}, "endpoint"},
		"Ironic's api_version":      {map[string]string{"url": url, "api_version": "1.65"}, "api_version"},
		"no url":                    {map[string]string{}, "url"},
		"bad url":                   {map[string]string{"url": "glance:9292"}, "url"},
		"bad auth_type":             {map[string]string{"url": url, "auth_type": "token"}, "auth_type"},
		"http_basic needs password": {map[string]string{"url": url, "auth_type": "http_basic", "username": "u"}, "password"},
		"password needs auth_url":   {map[string]string{"auth_type": "password", "username": "u", "password": "p"}, "auth_url"},
		"timeout not a number":      {map[string]string{"url": url, "timeout": "5s"}, "timeout"},
		"insecure not a boolean":    {map[string]string{"url": url, "insecure": "maybe"}, "insecure"},
		"cafile missing":            {map[string]string{"url": url, "cafile": "/nonexistent/ca.pem"}, "cafile"},
		"cafile not PEM":            {map[string]string{"url": url, "cafile": notPEM}, "cafile"},
		"cloud with auth_type":      {map[string]string{"cloud": "c", "auth_type": "none"}, "auth_type"},
		"cloud not in clouds.yaml":  {map[string]string{"cloud": "nosuchcloud"}, "cloud"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := glance.New(t.Context(), tc.options, hclog.NewNullLogger(), nil)
			want := "[glance] " + tc.wantOption + ": "
			if c != nil || err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("New(%v) = %v, want an error starting %q", tc.options, err, want)
			}
		})
	}
}

// A Keystone that is down at start does not stop New; each lookup is
// ErrUnavailable until it is back, naming where Glance was to be found.
func TestKeystoneDownAtStart(t *testing.T) {
	const authURL = "http://127.0.0.1:1/v3"
	c, err := glance.New(t.Context(), map[string]string{
		"auth_type": "password", "auth_url": authURL, "username": "mogan", "password": "s3cret",
		"project_name": "service", "user_domain_name": "Default", "project_domain_name": "Default",
	}, hclog.NewNullLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Existing(t.Context(), []string{uuid.NewString()})
	if !errors.Is(err, glance.ErrUnavailable) || !strings.Contains(err.Error(), "Glance (from the Keystone catalog of "+authURL+") is unavailable") ||
		strings.Contains(err.Error(), "s3cret") {
		t.Errorf("err = %v, want ErrUnavailable naming the Keystone catalog", err)
	}
}
