// Command openstack-standalone runs a small real OpenStack on this machine
// for demos and manual tests: Ironic, Glance and Neutron (testenv/cloud),
// with one flat network and subnet, and enrolls fixture nodes in it whose
// images are in Glance and whose VIFs are Neutron ports.
//
//	openstack-standalone start --dir D [--max-limit N] [--no-glance] [--no-neutron]
//	    # prints IRONIC_URL=…, GLANCE_URL=…, NEUTRON_URL=…, NETWORK_ID=…, … for eval
//	openstack-standalone enroll --dir D --adoptable 3 --associated 1 \
//	    --maintenance 1 --available 1 --no-resource-class 1 [--resource-class baremetal] [--json]
//	openstack-standalone stop --dir D
//
// The services outlive start (stop ends them). start needs Debian's
// python3-ironic, -glance and -neutron, installed by `make test-deps` (as
// root).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/mogan-manage/mogan-manage/testenv/cloud"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

const usage = `usage:
  openstack-standalone start --dir D [--max-limit N] [--no-glance] [--no-neutron]
  openstack-standalone enroll --dir D [--adoptable N] [--associated N] [--maintenance N]
                              [--available N] [--no-resource-class N] [--resource-class RC] [--json]
  openstack-standalone stop --dir D
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "openstack-standalone:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("missing command\n%s", usage)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	dir := fs.String("dir", "", "directory holding the services' config, databases, logs and state")
	switch args[0] {
	case "start":
		maxLimit := fs.Int("max-limit", 0, "Ironic's [api] max_limit (largest page); 0 = Ironic's default 1000")
		noGlance := fs.Bool("no-glance", false, "do not start Glance")
		noNeutron := fs.Bool("no-neutron", false, "do not start Neutron")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if *dir == "" {
			return fmt.Errorf("start needs --dir\n%s", usage)
		}
		c, err := cloud.Start(ctx, cloud.Options{
			Dir: *dir, Glance: !*noGlance, Neutron: !*noNeutron, IronicMaxLimit: *maxLimit,
		})
		if err != nil {
			return err
		}
		fmt.Printf("IRONIC_URL=%s\nIRONIC_PID=%d\nIRONIC_LOG=%s\n", c.Ironic.URL, c.Ironic.PID, c.Ironic.Log)
		if c.Glance != nil {
			fmt.Printf("GLANCE_URL=%s\nGLANCE_PID=%d\n", c.Glance.URL, c.Glance.PID)
		}
		if c.Neutron != nil {
			fmt.Printf("NEUTRON_URL=%s\nNEUTRON_PID=%d\nNETWORK_ID=%s\nSUBNET_ID=%s\n",
				c.Neutron.URL, c.Neutron.PID, c.NetworkID, c.SubnetID)
		}
		return nil
	case "stop":
		c, err := attach(fs, dir, args[1:])
		if err != nil {
			return err
		}
		c.Stop()
		return nil
	case "enroll":
		return enroll(ctx, fs, dir, args[1:])
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
}

func enroll(ctx context.Context, fs *flag.FlagSet, dir *string, args []string) error {
	var mix ironic.Mix
	fs.IntVar(&mix.Adoptable, "adoptable", 0, "active, unassociated nodes with a resource class (image in Glance, VIFs in Neutron)")
	fs.IntVar(&mix.Associated, "associated", 0, "active nodes associated with an instance")
	fs.IntVar(&mix.Maintenance, "maintenance", 0, "active nodes in maintenance")
	fs.IntVar(&mix.Available, "available", 0, "available (not deployed) nodes")
	fs.IntVar(&mix.NoResourceClass, "no-resource-class", 0, "active nodes without resource_class")
	fs.StringVar(&mix.ResourceClass, "resource-class", "baremetal", "resource class of the nodes")
	asJSON := fs.Bool("json", false, "print the enrolled nodes as JSON instead of one line each")
	c, err := attach(fs, dir, args)
	if err != nil {
		return err
	}
	nodes, err := c.Enroll(ctx, mix)
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

// attach parses the flags and returns the cloud that start recorded in
// --dir.
func attach(fs *flag.FlagSet, dir *string, args []string) (*cloud.Cloud, error) {
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if *dir == "" {
		return nil, fmt.Errorf("%s needs --dir\n%s", fs.Name(), usage)
	}
	return cloud.Attach(*dir)
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
