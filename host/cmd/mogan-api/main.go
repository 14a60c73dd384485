// Command mogan-api is the mogan-manage host: the admin HTTP API that lists
// bare metal nodes which can be taken under management and adopts them as
// servers, through the hardware driver plugin of each backend ([DEFAULT]
// enabled_backends, or the one [driver] name implies).
//
//	mogan-api [--config-file mogan.conf] [--host-ip IP] [--port N] [--plugin-dir DIR] [--debug]
//	mogan-api db sync [--config-file mogan.conf]
//	mogan-api drivers [--config-file mogan.conf] [--plugin-dir DIR]
//	mogan-api check-config [--config-file mogan.conf]
//	mogan-api recover [--dry-run] [--config-file mogan.conf]
//	mogan-api sample-config [--plugin-dir DIR] [--driver NAME]...
//
// Every command exits 2 with one line on stderr when it fails.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "mogan-api:", osclient.RedactText(err.Error()))
		}
		os.Exit(2)
	}
}

// run dispatches the sub-command; it returns when ctx is done (a signal)
// or the command fails.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) >= 2 && args[0] == "db" {
		if args[1] != "sync" {
			return fmt.Errorf("unknown command %q: the db command is \"db sync\"", "db "+args[1])
		}
		return dbSync(ctx, args[2:], stderr)
	}
	if len(args) > 0 {
		switch args[0] {
		case "drivers":
			return drivers(ctx, args[1:], stdout, stderr)
		case "check-config":
			return checkConfig(ctx, args[1:], stdout, stderr)
		case "recover":
			return recoverIntents(ctx, args[1:], stdout, stderr)
		case "sample-config":
			return sampleConfig(ctx, args[1:], stdout, stderr)
		}
		if !strings.HasPrefix(args[0], "-") {
			// A mistyped command must not start a server.
			return fmt.Errorf("unknown command %q (commands: db sync, drivers, check-config, recover, sample-config; "+
				"none serves the API)", args[0])
		}
	}
	return serve(ctx, args, stderr)
}
