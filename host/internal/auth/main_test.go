package auth

import (
	"context"
	"os"
	"testing"

	"github.com/mogan-manage/mogan-manage/testenv/clienttest"
	"github.com/mogan-manage/mogan-manage/testenv/keystone"
)

// testKeystone is the real Keystone the package's tests share; starting
// one takes a few seconds.
var testKeystone *keystone.Keystone

func TestMain(m *testing.M) {
	os.Exit(clienttest.Main(m, "auth tests need a real Keystone", func(ctx context.Context, dir string) (func(), error) {
		ks, err := keystone.Start(ctx, dir)
		if err != nil {
			return nil, err
		}
		testKeystone = ks
		return ks.Stop, nil
	}))
}
