package glance_test

import (
	"context"
	"os"
	"testing"

	"github.com/mogan-manage/mogan-manage/testenv/clienttest"
	glanceenv "github.com/mogan-manage/mogan-manage/testenv/glance"
)

// env is the package's standalone Glance, started by TestMain.
var env struct {
	glance *glanceenv.Glance
}

func TestMain(m *testing.M) {
	os.Exit(clienttest.Main(m, "glance client tests need a real Glance", func(ctx context.Context, dir string) (func(), error) {
		g, err := glanceenv.Start(ctx, dir)
		if err != nil {
			return nil, err
		}
		env.glance = g
		return g.Stop, nil
	}))
}

// takeQueries returns the queries of the requests the proxy passed since the
// last call.
func takeQueries(p *clienttest.Proxy) []string {
	var q []string
	for _, u := range p.Take() {
		q = append(q, u.RawQuery)
	}
	return q
}
