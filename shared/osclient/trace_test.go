package osclient_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// TestTracedCarriesTheRequestID: the request id of the context reaches
// the service as X-OpenStack-Request-ID, the service's own id is logged
// beside it, and each request is observed with its service and status.
func TestTracedCarriesTheRequestID(t *testing.T) {
	var got []string
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("X-Openstack-Request-Id"))
		w.Header().Set("X-Openstack-Request-Id", "req-upstream-own")
		w.WriteHeader(http.StatusTeapot)
	}))
	defer svc.Close()
	type obs struct {
		Service string
		Code    int
	}
	var seen []obs
	var logs bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug})
	rt := osclient.Traced(http.DefaultTransport, "Glance", "http://keystone.invalid:5000/v3", log,
		func(service string, code int, _ time.Duration) { seen = append(seen, obs{service, code}) })
	client := &http.Client{Transport: rt}

	cases := map[string]struct {
		ctx    context.Context
		url    string
		header string
		want   obs
	}{
		"with an id":       {requestid.With(t.Context(), "req-6f4e6c83-7a0b-4d8e-9c55-2e7c1c7e8d11"), svc.URL, "req-6f4e6c83-7a0b-4d8e-9c55-2e7c1c7e8d11", obs{"glance", 418}},
		"without an id":    {t.Context(), svc.URL, "", obs{"glance", 418}},
		"keystone refused": {t.Context(), "http://keystone.invalid:5000/v3/auth/tokens", "", obs{"keystone", 0}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, seen = nil, nil
			req, err := http.NewRequestWithContext(tc.ctx, http.MethodGet, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
				if diff := cmp.Diff([]string{tc.header}, got); diff != "" {
					t.Errorf("X-OpenStack-Request-ID the service got (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff([]obs{tc.want}, seen); diff != "" {
				t.Errorf("observed (-want +got):\n%s", diff)
			}
		})
	}
	line := logs.String()
	for _, want := range []string{"request_id=req-6f4e6c83-7a0b-4d8e-9c55-2e7c1c7e8d11", "upstream_request_id=req-upstream-own", "service=keystone"} {
		if !strings.Contains(line, want) {
			t.Errorf("log lacks %q:\n%s", want, line)
		}
	}
}
