// Package benchkit is what the benchmark commands that set mogan-manage
// against the same requests made directly (testenv/cmd/bench-migrate,
// bench-handoff) share: their flags and working directory, the warm-up
// and the alternating runs, the raw side's HTTP calls, waits and the
// requests of an adoption, running `mogan migrate` with reruns, the
// numbers a run reports (CPU seconds from /proc, the load average, the
// requests a service logged, the median) and the report. It lives once
// here so that both sides of every benchmark are run, retried, measured
// and reported alike; what differs between the commands (the services,
// the machines, the host side's command, the migration's own requests)
// stays in each.
package benchkit

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// Options are the flags every bench command takes.
type Options struct {
	// Bin is the directory holding mogan-api, mogan-driver-ironic and
	// mogan; absolute after WorkDir.
	Bin string
	// Nodes are the machines each side handles per run.
	Nodes int
	// Runs is how many times each side runs; the median is reported.
	Runs int
	// Concurrency is how many machines each side handles at a time.
	Concurrency int
	// Keep keeps the working directory (logs, databases).
	Keep bool
}

// Command is a bench command as its main describes it.
type Command struct {
	// Name starts every line it writes to stderr, e.g. "bench-migrate".
	Name string
	// NodesUsage and ConcurrencyUsage are the help of -nodes and
	// -concurrency, which say what a machine goes through.
	NodesUsage, ConcurrencyUsage string
}

// Main parses the flags and calls run with a context that Ctrl-C and
// SIGTERM cancel (so that run stops every process it started), then
// exits: 2 on a flag that is not positive, 1 when run fails.
func (c Command) Main(run func(context.Context, Options) error) {
	var o Options
	flag.StringVar(&o.Bin, "bin", "bin", "directory holding mogan-api, mogan-driver-ironic and mogan (make build)")
	flag.IntVar(&o.Nodes, "nodes", 200, c.NodesUsage)
	flag.IntVar(&o.Runs, "runs", 3, "runs of each side; the median is reported")
	flag.IntVar(&o.Concurrency, "concurrency", 8, c.ConcurrencyUsage)
	flag.BoolVar(&o.Keep, "keep", false, "keep the working directory (logs, databases)")
	flag.Parse()
	if o.Nodes < 1 || o.Runs < 1 || o.Concurrency < 1 {
		fmt.Fprintln(os.Stderr, c.Name+": -nodes, -runs and -concurrency must be positive")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, c.Name+":", err)
		os.Exit(1)
	}
}

// Logf writes a line to stderr with the time and the command's name: the
// progress of a run, apart from the table on stdout.
func (c Command) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s: %s\n", time.Now().Format("15:04:05"), c.Name, fmt.Sprintf(format, args...))
}

// WorkDir makes o.Bin absolute and checks that it holds the binaries
// (failing before anything starts), then makes a fresh working directory
// for the services' and the host's logs and databases. done, deferred with
// the run's error, removes the directory unless o.Keep is set or the run
// failed, when it says where the directory is.
func (c Command) WorkDir(o *Options) (dir string, done func(error), err error) {
	bin, err := filepath.Abs(o.Bin)
	if err != nil {
		return "", nil, err
	}
	o.Bin = bin
	for _, exe := range []string{"mogan-api", "mogan-driver-ironic", "mogan"} {
		if _, err := os.Stat(filepath.Join(bin, exe)); err != nil {
			return "", nil, fmt.Errorf("%s: %w (run make build, or pass -bin)", exe, err)
		}
	}
	dir, err = os.MkdirTemp("", c.Name+"-")
	if err != nil {
		return "", nil, err
	}
	keep := o.Keep
	return dir, func(err error) {
		if keep || err != nil {
			c.Logf("working directory %s (kept: the services' and the host's logs)", dir)
			return
		}
		_ = os.RemoveAll(dir)
	}, nil
}
