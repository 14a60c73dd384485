package neutron_test

import (
	"context"
	"os"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/testenv/clienttest"
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
	os.Exit(clienttest.Main(m, "neutron client tests need a real Neutron", func(ctx context.Context, dir string) (func(), error) {
		n, err := neutrontest.Start(ctx, dir, neutrontest.WithPaginationMaxLimit(pageLimit))
		if err != nil {
			return nil, err
		}
		if testNetwork, err = n.CreateNetwork(ctx, "provisioning"); err == nil {
			_, err = n.CreateSubnet(ctx, testNetwork, "10.2.0.0/24")
		}
		if err != nil {
			n.Stop()
			return nil, err
		}
		testNeutron = n
		return n.Stop, nil
	}))
}

// newClient is a client with auth_type none on url, logging into the test.
func newClient(t *testing.T, url string) *neutron.Client {
	t.Helper()
	log := hclog.New(&hclog.LoggerOptions{Output: testWriter{t}, Level: hclog.Debug})
	c, err := neutron.New(t.Context(), map[string]string{"url": url, "auth_type": "none", "timeout": "10"}, log, nil)
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
