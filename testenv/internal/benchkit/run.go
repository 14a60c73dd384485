package benchkit

import (
	"context"
	"fmt"
	"time"
)

// Sides are the two ways a benchmark does the same work to n fresh
// machines: Host through mogan-manage, Raw with the requests alone.
type Sides struct {
	Host, Raw func(ctx context.Context, n int) error
	// Measure is called just before a counted run; the function it
	// returns is called after the run and says what the run cost, e.g.
	// "CPU s: …; Ironic requests: …".
	Measure func() (cost func() string)
}

// Results are the counted runs' times and their lines.
type Results struct {
	Host, Raw []time.Duration
	Lines     []string
}

// Alternate warms each side up with o.Concurrency machines (not counted:
// the first connections, the caches), then runs host and raw alternately,
// o.Runs times each with o.Nodes machines, so that a change in the
// machine's load weighs on both alike. It logs each run's line.
func (c Command) Alternate(ctx context.Context, o Options, s Sides) (Results, error) {
	var res Results
	c.Logf("warming up: %d machines each way, not counted", o.Concurrency)
	if err := s.Host(ctx, o.Concurrency); err != nil {
		return res, fmt.Errorf("warm-up, host: %w", err)
	}
	if err := s.Raw(ctx, o.Concurrency); err != nil {
		return res, fmt.Errorf("warm-up, raw: %w", err)
	}
	for i := range o.Runs {
		for _, side := range []struct {
			name string
			f    func(context.Context, int) error
			out  *[]time.Duration
		}{{"host", s.Host, &res.Host}, {"raw", s.Raw, &res.Raw}} {
			cost := s.Measure()
			start := time.Now()
			if err := side.f(ctx, o.Nodes); err != nil {
				return res, fmt.Errorf("run %d, %s: %w", i+1, side.name, err)
			}
			d := time.Since(start)
			*side.out = append(*side.out, d)
			// A service logs a request just after answering it.
			time.Sleep(300 * time.Millisecond)
			line := fmt.Sprintf("run %d, %s: %.1f s wall, load %s; %s", i+1, side.name, d.Seconds(), LoadAverage(), cost())
			c.Logf("%s", line)
			res.Lines = append(res.Lines, line)
		}
	}
	return res, nil
}
