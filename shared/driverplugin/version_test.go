package driverplugin_test

import (
	"strings"
	"testing"

	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

// A plugin built for another protocol version is refused at the handshake,
// before any call, with go-plugin's message naming both versions
// (docs/plugin-authors.md, "Versions").
func TestOtherProtocolVersionIsRefused(t *testing.T) {
	path := drivertest.Build(t, "./testdata/otherprotocol", "future")
	p, err := driverplugin.Launch(driverplugin.LaunchConfig{Path: path})
	if err == nil {
		p.Kill()
		t.Fatal("Launch of a protocol 2 plugin succeeded; want it refused")
	}
	const want = "incompatible API version with plugin. Plugin version: 2, Client versions: [1]"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Launch = %v, want an error containing %q", err, want)
	}
}
