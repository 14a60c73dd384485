package auth

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/keystone"
)

// testKeystone is the real Keystone the package's tests share; starting
// one takes a few seconds.
var testKeystone *keystone.Keystone

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "auth-keystone-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ks, err := keystone.Start(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "auth tests need a real Keystone:", err)
		return 1
	}
	defer ks.Stop()
	testKeystone = ks
	return m.Run()
}
