package ironicbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// defaultNodes keeps `go test` quick; IRONIC_BENCH_NODES asks for more
// (enrolling through Ironic's API takes about 0.3 s a node).
const defaultNodes = 30

// env is this package's one Ironic, with N adoptable nodes, each with three
// ports and a portgroup.
var env struct {
	ironic   *ironic.Server
	nodes    int
	enrolled []ironic.Node // through Ironic's API, or bulk-loaded
}

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	env.nodes = defaultNodes
	if v := os.Getenv("IRONIC_BENCH_NODES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "IRONIC_BENCH_NODES=%q is not a positive number\n", v)
			return 2
		}
		env.nodes = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "ironicbench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	env.ironic, err = ironic.Start(ctx, ironic.Options{Dir: filepath.Join(dir, "ironic"), DieWithParent: true, NoPowerSync: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.ironic.Stop()
	start := time.Now()
	how := "enrolled"
	if os.Getenv("IRONIC_BENCH_BULK") != "" {
		// Bulk-loaded (testenv/ironic BulkLoad): 2 ports and a portgroup
		// a node, seconds for 10,000 nodes where enrolling takes hours.
		how = "bulk-loaded"
		env.enrolled, err = env.ironic.Fixture().BulkLoad(ctx, env.nodes, ironic.BulkOptions{Portgroup: true})
	} else {
		env.enrolled, err = env.ironic.Fixture().Enroll(ctx, ironic.Mix{Adoptable: env.nodes})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fixture:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "ironicbench: %s %d nodes in %s\n", how, env.nodes, time.Since(start).Round(time.Second))
	return m.Run()
}
