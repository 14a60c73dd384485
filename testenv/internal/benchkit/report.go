package benchkit

import (
	"fmt"
	"io"
	"runtime"
	"strings"
)

// Goal is the ratio of the host's time to the raw side's that the host may
// reach.
const Goal = 1.2

// Report is the markdown a bench command prints on stdout at its end: the
// table of the medians and their ratio against Goal, then every run's
// line and the retries, so that a slow run or a retry can be told from a
// slow host.
type Report struct {
	Options Options
	// Machines says what each machine has, e.g. "one NIC each".
	Machines string
	// Host is the host side's command in the table's head, e.g. "mogan
	// migrate --adopt"; Case what the row measures, e.g. "migrations with
	// adoption".
	Host, Case string
	// LoadStart is LoadAverage at the start (the end's is read by Write).
	LoadStart string
	// Retries are both sides' retries.
	Retries *Notes
}

// Write writes the report of the runs, with the medians of their times.
func (r Report) Write(w io.Writer, runs Results) error {
	host, raw := Median(runs.Host), Median(runs.Raw)
	ratio := host.Seconds() / raw.Seconds()
	verdict := "met"
	if ratio > Goal {
		verdict = "**missed**"
	}
	o := r.Options
	var out strings.Builder
	fmt.Fprintf(&out, "\n%d machines a run (%s), --concurrency %d; median of %d runs, host and raw alternating; "+
		"load average %s at the start, %s at the end (%d CPUs)\n\n", o.Nodes, r.Machines, o.Concurrency, o.Runs, r.LoadStart, LoadAverage(),
		runtime.NumCPU())
	fmt.Fprintf(&out, "| case | host (%s) | raw (the same requests) | ratio | goal |\n| --- | --- | --- | --- | --- |\n", r.Host)
	fmt.Fprintf(&out, "| %d %s, %d at a time | %.1f s | %.1f s | %.2f× | ≤ %.1f× (%s) |\n",
		o.Nodes, r.Case, o.Concurrency, host.Seconds(), raw.Seconds(), ratio, Goal, verdict)
	out.WriteString("\nruns:\n")
	for _, l := range runs.Lines {
		out.WriteString("  " + l + "\n")
	}
	if retries := r.Retries.Lines(); len(retries) > 0 {
		fmt.Fprintf(&out, "\nretries (counted in the times above): %d\n", len(retries))
		for _, l := range retries {
			out.WriteString("  " + l + "\n")
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}
