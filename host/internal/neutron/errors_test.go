package neutron_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	neutrontest "github.com/mogan-manage/mogan-manage/testenv/neutron"
)

// TestNeutronStopped: with Neutron gone, both calls are ErrUnavailable
// naming its URL, without the userinfo the url option carried.
func TestNeutronStopped(t *testing.T) {
	n, err := neutrontest.Start(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	withUser := strings.Replace(n.URL, "http://", "http://mogan:s3cret@", 1)
	client := newClient(t, withUser)
	n.Stop()

	const id = "5f0c6f3e-4a47-4a63-9d0a-cc8a2d7d1e01"
	_, listErr := client.Ports(t.Context(), []string{id})
	_, bindErr := client.Bind(t.Context(), id, "node", "baremetal")
	for name, err := range map[string]error{"Ports": listErr, "Bind": bindErr} {
		if !errors.Is(err, neutron.ErrUnavailable) || !strings.Contains(err.Error(), n.URL) ||
			strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: err %v, want ErrUnavailable naming %s without the password", name, err, n.URL)
		}
	}
}

// TestStatuses maps what a server in Neutron's place answers: refusals and
// failures are ErrUnavailable, Neutron's own PortNotFound is
// ErrPortNotFound, a 404 from something that is not Neutron is a wrong url
// (unavailable), and a request Neutron refuses is neither.
func TestStatuses(t *testing.T) {
	const portNotFound = `{"NeutronError": {"type": "PortNotFound", "message": "Port x could not be found.", "detail": ""}}`
	const badRequest = `{"NeutronError": {"type": "InvalidInput", "message": "Invalid input for operation: bad vnic.", "detail": ""}}`
	tests := []struct {
		name     string
		status   int
		body     string
		wantList error // nil: an error that is neither sentinel
		wantBind error
	}{
		{"unauthorized", 401, `{"error": "no"}`, neutron.ErrUnavailable, neutron.ErrUnavailable},
		{"forbidden", 403, `{"error": "no"}`, neutron.ErrUnavailable, neutron.ErrUnavailable},
		{"internal error", 500, "boom", neutron.ErrUnavailable, neutron.ErrUnavailable},
		{"bad gateway", 502, "<html>proxy</html>", neutron.ErrUnavailable, neutron.ErrUnavailable},
		{"service unavailable", 503, "", neutron.ErrUnavailable, neutron.ErrUnavailable},
		{"neutron's port not found", 404, portNotFound, neutron.ErrUnavailable, neutron.ErrPortNotFound},
		{"not neutron's 404", 404, "<html>nope</html>", neutron.ErrUnavailable, neutron.ErrUnavailable},
		{"bad request", 400, badRequest, nil, nil},
		{"not json", 200, "<html>a login page</html>", neutron.ErrUnavailable, neutron.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			client := newClient(t, srv.URL)
			const id = "5f0c6f3e-4a47-4a63-9d0a-cc8a2d7d1e01"
			_, listErr := client.Ports(t.Context(), []string{id})
			_, bindErr := client.Bind(t.Context(), id, "node", "baremetal")
			check := func(call string, err, want error) {
				t.Helper()
				switch {
				case err == nil:
					t.Errorf("%s: no error", call)
				case want == nil && (errors.Is(err, neutron.ErrUnavailable) || errors.Is(err, neutron.ErrPortNotFound)):
					t.Errorf("%s: err %v, want neither sentinel", call, err)
				case want != nil && !errors.Is(err, want):
					t.Errorf("%s: err %v, want %v", call, err, want)
				case !strings.Contains(err.Error(), srv.URL):
					t.Errorf("%s: err %v does not name %s", call, err, srv.URL)
				}
			}
			check("Ports", listErr, tt.wantList)
			check("Bind", bindErr, tt.wantBind)
		})
	}
}

// TestCanceled: the caller's own cancellation is not Neutron being
// unavailable.
func TestCanceled(t *testing.T) {
	client := newClient(t, testNeutron.URL)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := client.Ports(ctx, []string{"5f0c6f3e-4a47-4a63-9d0a-cc8a2d7d1e01"})
	if !errors.Is(err, context.Canceled) || errors.Is(err, neutron.ErrUnavailable) {
		t.Errorf("err %v, want context.Canceled and not ErrUnavailable", err)
	}
}
