package clienttest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestProxy: the client gets the service's answers through the proxy, and
// Take returns each request's path and query once.
func TestProxy(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "answer to "+r.URL.RequestURI())
	}))
	defer target.Close()
	p := NewProxy(t, target.URL)

	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := get("/v2/images?id=in:a,b"); got != "answer to /v2/images?id=in:a,b" {
		t.Errorf("through the proxy: %q", got)
	}
	get("/v2/images?marker=b")
	var seen []string
	for _, u := range p.Take() {
		seen = append(seen, u.RequestURI())
	}
	if diff := cmp.Diff([]string{"/v2/images?id=in:a,b", "/v2/images?marker=b"}, seen); diff != "" {
		t.Errorf("taken (-want +got):\n%s", diff)
	}
	if again := p.Take(); len(again) != 0 {
		t.Errorf("second Take: %v, want none", again)
	}
}
