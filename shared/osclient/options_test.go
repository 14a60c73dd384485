package osclient_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

func TestParseRefusesBadOptions(t *testing.T) {
	url := map[string]string{"url": "http://127.0.0.1:9292"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"url": url["url"]}
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
		"url alone":                  {url, ""},
		"everything":                 {with("timeout", "5", "insecure", "True", "auth_type", "none", "region_name", "r"), ""},
		"http_basic":                 {with("auth_type", "http_basic", "username", "u", "password", "p"), ""},
		"password via keystone":      {map[string]string{"auth_type": "password", "auth_url": "http://k:5000/v3", "username": "u", "password": "p", "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"}, ""},
		"password unscoped":          {map[string]string{"auth_type": "password", "auth_url": "http://k:5000/v3", "username": "u", "password": "p", "user_domain_name": "Default"}, ""},
		"user_domain_name missing":   {map[string]string{"auth_type": "password", "auth_url": "http://k:5000/v3", "username": "u", "password": "p", "project_name": "admin", "project_domain_name": "Default"}, "user_domain_name"},
		"project_domain missing":     {map[string]string{"auth_type": "password", "auth_url": "http://k:5000/v3", "username": "u", "password": "p", "project_name": "admin", "user_domain_name": "Default"}, "project_domain_name"},
		"domains by id":              {map[string]string{"auth_type": "password", "auth_url": "http://k:5000/v3", "username": "u", "password": "p", "project_name": "admin", "user_domain_id": "default", "project_domain_id": "default"}, ""},
		"user domain name and id":    {map[string]string{"auth_type": "password", "auth_url": "http://k:5000/v3", "username": "u", "password": "p", "user_domain_name": "Default", "user_domain_id": "default"}, "user_domain_id"},
		"project domain name and id": {map[string]string{"auth_type": "password", "auth_url": "http://k:5000/v3", "username": "u", "password": "p", "project_name": "admin", "user_domain_id": "default", "project_domain_name": "Default", "project_domain_id": "default"}, "project_domain_id"},
		"cloud":                      {map[string]string{"cloud": "c"}, ""},
		"unknown option":             {with("endpoint", "x"), "endpoint"},
		"timeout a day":              {with("timeout", "86400"), ""},
		"timeout overflowing":        {with("timeout", "36028797018963971"), "timeout"},
		"timeout over a day":         {with("timeout", "86401"), "timeout"},
		"service's own option":       {with("api_version", "1.2"), "api_version"},
		"no url":                     {map[string]string{}, "url"},
		"bad url":                    {map[string]string{"url": "glance:9292"}, "url"},
		"bad auth_type":              {with("auth_type", "token"), "auth_type"},
		"http_basic needs password":  {with("auth_type", "http_basic", "username", "u"), "password"},
		"password needs auth_url":    {map[string]string{"auth_type": "password", "username": "u", "password": "p"}, "auth_url"},
		"password needs username":    {map[string]string{"auth_type": "password", "auth_url": "http://k:5000/v3", "password": "p"}, "username"},
		"timeout not a number":       {with("timeout", "5s"), "timeout"},
		"timeout zero":               {with("timeout", "0"), "timeout"},
		"insecure not a boolean":     {with("insecure", "maybe"), "insecure"},
		"cafile missing":             {with("cafile", "/nonexistent/ca.pem"), "cafile"},
		"cafile not PEM":             {with("cafile", notPEM), "cafile"},
		"cloud with auth_type":       {map[string]string{"cloud": "c", "auth_type": "none"}, "auth_type"},
		"first bad option by name":   {with("timeout", "x", "insecure", "maybe"), "insecure"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := osclient.Parse(tc.options, osclient.Spec{})
			if tc.wantOption == "" {
				if err != nil {
					t.Errorf("Parse(%v) = %v, want success", tc.options, err)
				}
				return
			}
			var oe *osclient.OptionError
			if !errors.As(err, &oe) || oe.Option != tc.wantOption {
				t.Errorf("Parse(%v) = %v, want an OptionError naming %q", tc.options, err, tc.wantOption)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	var extra string
	spec := osclient.Spec{
		Extra:          map[string]func(string) error{"api_version": func(v string) error { extra = v; return nil }},
		DefaultTimeout: 7 * time.Second,
	}
	o, err := osclient.Parse(map[string]string{
		"url": " http://127.0.0.1:9292 ", "auth_type": "http_basic", "username": "u", "password": "p",
		"insecure": "yes", "api_version": " 1.5 ",
	}, spec)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{o.URL, o.AuthType, o.Username, o.Password, o.Insecure, o.Timeout, extra}
	want := []any{"http://127.0.0.1:9292/", osclient.AuthHTTPBasic, "u", "p", true, 7 * time.Second, "1.5"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}

	o, err = osclient.Parse(map[string]string{"url": "http://h:6385", "timeout": "3"},
		osclient.Spec{NormalizeURL: func(u string) string { return u + "/v1/" }})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"http://h:6385/v1/", osclient.AuthNone, 3 * time.Second}, []any{o.URL, o.AuthType, o.Timeout}); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}
}

// An unknown option's message lists what is known, the service's own
// options included, and names its owner.
func TestUnknownOptionMessage(t *testing.T) {
	spec := osclient.Spec{Owner: "the x driver", Extra: map[string]func(string) error{"api_version": func(string) error { return nil }}}
	_, err := osclient.Parse(map[string]string{"url": "http://h", "endpoint": "x"}, spec)
	for _, want := range []string{`option "endpoint": unknown option of the x driver (known: `, "api_version, auth_type", "url"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
}

// A password in a URL never reaches an error message.
func TestOptionErrorsRedactUserinfo(t *testing.T) {
	_, err := osclient.Parse(map[string]string{"url": "ftp://user:s3cret@h/"}, osclient.Spec{})
	if err == nil || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "user") {
		t.Errorf("err = %v, want an error without the userinfo", err)
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain":         {"http://127.0.0.1:9292/v2/", "http://127.0.0.1:9292/v2/"},
		"user:password": {"http://u:p@127.0.0.1:9292/x?y=1", "http://127.0.0.1:9292/x?y=1"},
		"user only":     {"https://u@h/", "https://h/"},
		"not a URL":     {"::not a url", "::not a url"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, osclient.Redact(tc.in)); diff != "" {
				t.Errorf("Redact(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestRedactText(t *testing.T) {
	in := `Get "http://admin:***@127.0.0.1:1/v2/images?id=in:a": dial tcp: refused; also https://u:p@h:1 and mailto@x.org`
	want := `Get "http://127.0.0.1:1/v2/images?id=in:a": dial tcp: refused; also https://h:1 and mailto@x.org`
	if diff := cmp.Diff(want, osclient.RedactText(in)); diff != "" {
		t.Errorf("RedactText (-want +got):\n%s", diff)
	}
}
