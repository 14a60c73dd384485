package neutron_test

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

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	neutrontest "github.com/mogan-manage/mogan-manage/testenv/neutron"
)

// pageLimit is the shared Neutron's pagination_max_limit: small, so that
// listings must follow Neutron's next links.
const pageLimit = 2

// testNeutron is the real Neutron the package's tests share (starting one
// takes several seconds), with one network and subnet for their ports.
var (
	testNeutron *neutrontest.Neutron
	testNetwork string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "neutron-client-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := neutrontest.Start(ctx, dir, neutrontest.WithPaginationMaxLimit(pageLimit))
	if err != nil {
		fmt.Fprintln(os.Stderr, "neutron client tests need a real Neutron:", err)
		return 1
	}
	defer n.Stop()
	testNeutron = n
	if testNetwork, err = n.CreateNetwork(ctx, "provisioning"); err == nil {
		_, err = n.CreateSubnet(ctx, testNetwork, "10.2.0.0/24")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// counter is a proxy in front of a Neutron that records each request's
// path and query.
type counter struct {
	URL string

	mu       sync.Mutex
	requests []*url.URL
}

func newCounter(t *testing.T, target string) *counter {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	c := &counter{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.requests = append(c.requests, r.URL)
		c.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

// take returns the requests seen so far and forgets them.
func (c *counter) take() []*url.URL {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.requests
	c.requests = nil
	return r
}

// newClient is a client with auth_type none on url, logging into the test.
func newClient(t *testing.T, url string) *neutron.Client {
	t.Helper()
	log := hclog.New(&hclog.LoggerOptions{Output: testWriter{t}, Level: hclog.Debug})
	c, err := neutron.New(t.Context(), map[string]string{"url": url, "auth_type": "none", "timeout": "10"}, log)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
