// Command otherprotocol is a driver plugin built for protocol version 2,
// which this host does not speak: TestOtherProtocolVersionIsRefused.
package main

import (
	"context"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
)

type future struct{}

func (future) Info(context.Context) (driver.Info, error) {
	return driver.Info{Name: "future", Version: "2.0.0"}, nil
}

func (future) Configure(context.Context, map[string]string) error { return nil }

func main() {
	driverplugin.Handshake.ProtocolVersion = driverplugin.ProtocolVersion + 1
	driverplugin.Serve(func(hclog.Logger) driver.Driver { return future{} })
}
