package jsonapi

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var errNotFound = errors.New("svc: not found")

// TestRequest checks what is sent (body, headers) and how each answer
// comes back: decoded, empty, 404 as NotFound or as a plain error, other
// statuses quoting the service.
func TestRequest(t *testing.T) {
	type seen struct {
		Method, Path, Body, ContentType, Accept, Version, Token string
	}
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = seen{r.Method, r.URL.Path, string(b), r.Header.Get("Content-Type"), r.Header.Get("Accept"),
			r.Header.Get("X-Version"), r.Header.Get("X-Auth-Token")}
		switch r.URL.Path {
		case "/v2/things/1":
			_, _ = io.WriteString(w, `{"id": "1", "name": "one"}`)
		case "/v2/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/v2/broken":
			http.Error(w, "database is locked", http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	tests := map[string]struct {
		notFound     error
		method, path string
		body         any
		headers      []string
		want         seen
		wantOut      string
		wantErr      string
		wantNotFound bool
	}{
		"GET decodes": {
			method: http.MethodGet, path: "/things/1",
			want:    seen{Method: "GET", Path: "/v2/things/1", Accept: "application/json", Version: "2.1"},
			wantOut: "one",
		},
		"POST sends JSON and extra headers": {
			method: http.MethodPost, path: "/empty", body: map[string]int{"n": 1}, headers: []string{"X-Auth-Token", "tok"},
			want: seen{Method: "POST", Path: "/v2/empty", Body: `{"n":1}`, ContentType: "application/json",
				Accept: "application/json", Version: "2.1", Token: "tok"},
		},
		"404 is NotFound": {
			notFound: errNotFound, method: http.MethodDelete, path: "/gone",
			want:    seen{Method: "DELETE", Path: "/v2/gone", Accept: "application/json", Version: "2.1"},
			wantErr: "svc: not found: DELETE /gone", wantNotFound: true,
		},
		"404 without NotFound": {
			method: http.MethodGet, path: "/gone",
			want:    seen{Method: "GET", Path: "/v2/gone", Accept: "application/json", Version: "2.1"},
			wantErr: "svc: GET /gone: 404 Not Found: 404 page not found",
		},
		"500 quotes the service": {
			notFound: errNotFound, method: http.MethodPut, path: "/broken", body: []int{},
			want: seen{Method: "PUT", Path: "/v2/broken", Body: "[]", ContentType: "application/json",
				Accept: "application/json", Version: "2.1"},
			wantErr: "svc: PUT /broken: 500 Internal Server Error: database is locked",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := &Client{
				URL: srv.URL + "/v2", Name: "svc", NotFound: tc.notFound,
				Header: http.Header{"X-Version": {"2.1"}},
			}
			var out struct{ Name string }
			err := c.Request(t.Context(), tc.method, tc.path, tc.body, &out, tc.headers...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			if out.Name != tc.wantOut {
				t.Errorf("decoded name %q, want %q", out.Name, tc.wantOut)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("err %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("err %v, want %q", err, tc.wantErr)
			}
			if errors.Is(err, errNotFound) != tc.wantNotFound {
				t.Errorf("errors.Is(%v, NotFound) = %v, want %v", err, !tc.wantNotFound, tc.wantNotFound)
			}
		})
	}
}
