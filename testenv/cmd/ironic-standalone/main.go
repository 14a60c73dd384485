// Command ironic-standalone runs a real OpenStack Ironic on this machine for
// CI, demos and manual tests, and enrolls fixture nodes in it.
//
//	ironic-standalone start --dir D [--max-limit N]   # prints URL=… and PID=…
//	ironic-standalone fixture --dir D --adoptable 3 --associated 1 \
//	    --maintenance 1 --available 1 --no-resource-class 1 [--resource-class baremetal] [--json]
//	ironic-standalone fixture --url U ...             # without --dir, VIFs only in extra
//	ironic-standalone stop --dir D
//
// start needs Debian's python3-ironic, installed by `make test-deps` (as root).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

const usage = `usage:
  ironic-standalone start --dir D [--max-limit N]
  ironic-standalone fixture (--dir D | --url U) [--adoptable N] [--associated N] [--maintenance N]
                            [--available N] [--no-resource-class N] [--resource-class RC] [--json]
  ironic-standalone stop --dir D
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ironic-standalone:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("missing command\n%s", usage)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	dir := fs.String("dir", "", "directory holding the Ironic's config, database, log and state")
	switch args[0] {
	case "start":
		maxLimit := fs.Int("max-limit", 0, "Ironic's [api] max_limit (largest page); 0 = Ironic's default 1000")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if *dir == "" {
			return fmt.Errorf("start needs --dir")
		}
		s, err := ironic.Start(ctx, ironic.Options{Dir: *dir, MaxLimit: *maxLimit})
		if err != nil {
			return err
		}
		fmt.Printf("URL=%s\nPID=%d\nLOG=%s\n", s.URL, s.PID, s.Log)
		return nil
	case "stop":
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if *dir == "" {
			return fmt.Errorf("stop needs --dir")
		}
		s, err := ironic.Attach(*dir)
		if err != nil {
			return err
		}
		return s.Stop()
	case "fixture":
		return fixture(ctx, fs, dir, args[1:])
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
}

func fixture(ctx context.Context, fs *flag.FlagSet, dir *string, args []string) error {
	url := fs.String("url", "", "Ironic URL, when not started with --dir")
	var mix ironic.Mix
	fs.IntVar(&mix.Adoptable, "adoptable", 0, "active, unassociated nodes with a resource class")
	fs.IntVar(&mix.Associated, "associated", 0, "active nodes associated with an instance")
	fs.IntVar(&mix.Maintenance, "maintenance", 0, "active nodes in maintenance")
	fs.IntVar(&mix.Available, "available", 0, "available (not deployed) nodes")
	fs.IntVar(&mix.NoResourceClass, "no-resource-class", 0, "active nodes without resource_class")
	fs.StringVar(&mix.ResourceClass, "resource-class", "baremetal", "resource class of the nodes")
	asJSON := fs.Bool("json", false, "print the enrolled nodes as JSON instead of one line each")
	if err := parse(fs, args); err != nil {
		return err
	}
	f := &ironic.Fixture{URL: *url}
	if *dir != "" {
		s, err := ironic.Attach(*dir)
		if err != nil {
			return err
		}
		f = s.Fixture()
	}
	if f.URL == "" {
		return fmt.Errorf("fixture needs --dir or --url")
	}
	nodes, err := f.Enroll(ctx, mix)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(nodes)
	}
	for _, n := range nodes {
		fmt.Printf("%s %s\n", n.UUID, n.Kind)
	}
	return nil
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v\n%s", fs.Args(), usage)
	}
	return nil
}
