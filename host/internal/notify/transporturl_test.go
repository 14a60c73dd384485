package notify

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTransportURL(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    []broker
		wantErr string
	}{
		"oslo's usual form": {
			in:   "rabbit://mogan:s3cret@rabbit.example:5672/",
			want: []broker{{user: "mogan", password: "s3cret", host: "rabbit.example:5672", vhost: "/"}},
		},
		"defaults: port 5672, guest/guest, vhost /": {
			in:   "rabbit://127.0.0.1",
			want: []broker{{user: "guest", password: "guest", host: "127.0.0.1:5672", vhost: "/"}},
		},
		"several hosts, each with its credentials, a named vhost, query ignored": {
			in: "rabbit://a:pa@h1:5671,b:pb@h2/openstack?ssl=1",
			want: []broker{
				{user: "a", password: "pa", host: "h1:5671", vhost: "openstack"},
				{user: "b", password: "pb", host: "h2:5672", vhost: "openstack"},
			},
		},
		"percent-encoded userinfo and vhost": {
			in:   "rabbit://us%40er:p%3Aw%2Fd@h:1/v%2Fh",
			want: []broker{{user: "us@er", password: "p:w/d", host: "h:1", vhost: "v/h"}},
		},
		"password with @ before the last @": {
			in:   "rabbit://u:p@ss@h/",
			want: []broker{{user: "u", password: "p@ss", host: "h:5672", vhost: "/"}},
		},
		"IPv6": {
			in:   "rabbit://u:p@[::1]:5673,[fe80::1]/",
			want: []broker{{user: "u", password: "p", host: "[::1]:5673", vhost: "/"}, {user: "guest", password: "guest", host: "[fe80::1]:5672", vhost: "/"}},
		},
		"empty":            {in: "", wantErr: "[DEFAULT] transport_url is required for [oslo_messaging_notifications] driver = messagingv2"},
		"not a URL":        {in: "localhost", wantErr: "not of the form rabbit://"},
		"AMQP 1.0 driver":  {in: "amqp://u:s3cret@h/", wantErr: `scheme "amqp" is not supported: use rabbit://`},
		"no host":          {in: "rabbit:///", wantErr: "names no host"},
		"empty host":       {in: "rabbit://u:s3cret@/", wantErr: "host 1: empty host name"},
		"bad port":         {in: "rabbit://u:s3cret@h:99999/", wantErr: "host 1: \"h:99999\": port must be a number"},
		"second host bad":  {in: "rabbit://u:s3cret@h,u:s3cret@h:x/", wantErr: "host 2:"},
		"bad escape in pw": {in: "rabbit://u:s3cret%zz@h/", wantErr: "password is not percent-encoded correctly (not shown)"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseTransportURL(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(broker{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestBrokerStringHidesPassword(t *testing.T) {
	tests := map[string]struct {
		b    broker
		want string
	}{
		"default vhost": {broker{user: "mogan", password: "s3cret", host: "h:5672", vhost: "/"}, "rabbit://mogan:***@h:5672/"},
		"named vhost":   {broker{user: "mogan", password: "s3cret", host: "h:5672", vhost: "a/b"}, "rabbit://mogan:***@h:5672/a%2Fb"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.b.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
