// Command mogan-api is the mogan-manage host: the admin HTTP API that lists
// bare metal nodes which can be taken under management and adopts them as
// servers, through a hardware driver plugin.
//
//	mogan-api [--config-file mogan.conf] [--host-ip IP] [--port N] [--plugin-dir DIR] [--debug]
//	mogan-api db sync [--config-file mogan.conf]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := run(ctx, os.Args[1:], os.Stderr)
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
func run(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) >= 2 && args[0] == "db" {
		if args[1] != "sync" {
			return fmt.Errorf("unknown command %q: the db command is \"db sync\"", "db "+args[1])
		}
		return dbSync(ctx, args[2:], stderr)
	}
	return serve(ctx, args, stderr)
}
