package driverplugin

import (
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// parentPollInterval is how often a plugin checks that its host is alive.
const parentPollInterval = 500 * time.Millisecond

// Serve runs the driver that newDriver returns as a plugin and never
// returns. It is the whole of a plugin's main:
//
//	func main() { driverplugin.Serve(mydriver.New) }
//
// newDriver gets a logger whose lines reach the host's log, tagged with the
// driver's name and at their own level.
// Run by hand rather than by the host, it says so on stderr and exits 1.
// The plugin exits by itself shortly after its host dies, even when the host
// was killed and could not stop it.
func Serve(newDriver func(hclog.Logger) driver.Driver) {
	if os.Getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		fmt.Fprintf(os.Stderr, "%s is a mogan-manage driver plugin: the mogan-api host starts it; "+
			"put it in the host's [driver] plugin_dir instead of running it by hand\n", os.Args[0])
		os.Exit(1)
	}
	go exitWithParent(os.Getppid())
	// JSON lines on stderr are parsed by the host and keep their level.
	logger := hclog.New(&hclog.LoggerOptions{
		Level:      hclog.Trace,
		Output:     os.Stderr,
		JSONFormat: true,
	})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugin.PluginSet{PluginName: &grpcPlugin{Impl: newDriver(logger)}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return plugin.DefaultGRPCServer(append(opts, serverInterceptors(logger)...))
		},
		Logger: logger,
	})
	os.Exit(0)
}

// exitWithParent ends the plugin once its parent is gone (the process is
// re-parented, so getppid changes). The host also asks Linux for a
// parent-death signal; this is the portable backstop.
func exitWithParent(ppid int) {
	for range time.Tick(parentPollInterval) {
		if os.Getppid() != ppid {
			os.Exit(0)
		}
	}
}
