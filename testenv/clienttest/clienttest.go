// Package clienttest holds what the tests of a client of a real service
// share: a TestMain that starts the service once for the package (starting
// one takes seconds), and a proxy that counts the requests the client
// makes.
package clienttest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"
)

// startTimeout bounds start; services take seconds, more on a loaded
// machine.
const startTimeout = 2 * time.Minute

// Main is a TestMain body: it makes a temporary directory, calls start
// with it (bounded by two minutes), runs the tests, calls the stop start
// returned and removes the directory. It returns the exit code for
// os.Exit. When start fails the tests do not run, and the error is printed
// after what, e.g. "auth tests need a real Keystone".
func Main(m *testing.M, what string, start func(ctx context.Context, dir string) (stop func(), err error)) int {
	dir, err := os.MkdirTemp("", "clienttest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	stop, err := start(ctx, dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
		return 1
	}
	defer stop()
	return m.Run()
}

// Proxy is a reverse proxy in front of a service that records each
// request's URL (path and query), for tests that count what a client
// asks.
type Proxy struct {
	// URL is the proxy's, to give the client instead of the service's.
	URL string

	mu       sync.Mutex
	requests []*url.URL
}

// NewProxy starts a proxy to target, closed when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests = append(p.requests, r.URL)
		p.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Take returns the requests seen since the last Take and forgets them.
func (p *Proxy) Take() []*url.URL {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.requests
	p.requests = nil
	return r
}
