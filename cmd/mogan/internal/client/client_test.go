package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFaultString(t *testing.T) {
	for name, tc := range map[string]struct {
		body, want string
	}{
		"mogan's string-in-a-string": {
			`{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"Node x is in maintenance.\", \"debuginfo\": null}"}`,
			"Node x is in maintenance.",
		},
		"an object":      {`{"error_message": {"faultstring": "no such thing"}}`, "no such thing"},
		"a plain string": {`{"error_message": "gone fishing"}`, "gone fishing"},
		"not json":       {"<html>Bad Gateway</html>", "<html>Bad Gateway</html>"},
		"empty":          {"", ""},
	} {
		t.Run(name, func(t *testing.T) {
			if got := faultString([]byte(tc.body)); got != tc.want {
				t.Errorf("faultString = %q; want %q", got, tc.want)
			}
		})
	}
}

// TestAPIError: a refusal is an *APIError with the status, faultstring
// and request id; a proxy's page without either is still told.
func TestAPIError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/servers/gone" {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.Header().Set("X-Openstack-Request-Id", "req-1")
		w.WriteHeader(http.StatusConflict)
		_, _ = fmt.Fprint(w, `{"error_message": "{\"faultstring\": \"busy\"}"}`)
	}))
	defer srv.Close()
	c, err := Connect(context.Background(), Options{URL: srv.URL + "/v1/"})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"x": "busy (HTTP 409, request req-1)", "gone": "Bad Gateway (HTTP 502)"} {
		_, err := c.GetServer(context.Background(), id)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || err.Error() != want {
			t.Errorf("GetServer(%s): %v; want an *APIError %q", id, err, want)
		}
	}
}

// TestListServersPages: the servers list is read page by page with the
// last uuid as marker, until a short page.
func TestListServersPages(t *testing.T) {
	const total = serversPage*2 + 3
	var markers []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("all_tenants") != "true" || q.Get("limit") != strconv.Itoa(serversPage) {
			t.Errorf("query %v", q)
		}
		markers = append(markers, q.Get("marker"))
		start := 0
		if m := q.Get("marker"); m != "" {
			start, _ = strconv.Atoi(m)
			start++
		}
		var page []map[string]string
		for i := start; i < total && len(page) < serversPage; i++ {
			page = append(page, map[string]string{"uuid": strconv.Itoa(i), "node_uuid": "n" + strconv.Itoa(i)})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"servers": page})
	}))
	defer srv.Close()
	c, err := Connect(context.Background(), Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	servers, err := c.ListServers(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != total || servers[total-1].NodeUUID != fmt.Sprintf("n%d", total-1) {
		t.Errorf("%d servers, last %+v; want %d", len(servers), servers[len(servers)-1], total)
	}
	want := []string{"", strconv.Itoa(serversPage - 1), strconv.Itoa(2*serversPage - 1)}
	if diff := cmp.Diff(want, markers); diff != "" {
		t.Errorf("markers (-want +got):\n%s", diff)
	}
}

// TestRetryAfter: a 503 with Retry-After (the host's repair pass at
// start) is sent again, up to maxRetries; a 503 without it is an error at
// once.
func TestRetryAfter(t *testing.T) {
	for name, tc := range map[string]struct {
		unavailable int  // 503s before a 200
		retryAfter  bool // whether they say Retry-After
		wantCalls   int
		wantErr     bool
	}{
		"two 503s then 200":       {2, true, 3, false},
		"503 without Retry-After": {1, false, 1, true},
		"503 for ever":            {100, true, maxRetries + 1, true},
	} {
		t.Run(name, func(t *testing.T) {
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls++; calls <= tc.unavailable {
					if tc.retryAfter {
						w.Header().Set("Retry-After", "0")
					}
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				_, _ = fmt.Fprint(w, `{"uuid": "s"}`)
			}))
			defer srv.Close()
			c, err := Connect(context.Background(), Options{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetServer(context.Background(), "s")
			if calls != tc.wantCalls || (err != nil) != tc.wantErr {
				t.Errorf("%d calls, err %v; want %d calls, error %v", calls, err, tc.wantCalls, tc.wantErr)
			}
		})
	}
}
