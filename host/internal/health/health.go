package health

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// DefaultTimeout bounds each check when Checker.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Check is one thing readiness depends on.
type Check struct {
	// Name names it in the report ("store", "driver", "ironic", "glance").
	Name string
	// Critical: when it is down the host is not ready (503).
	Critical bool
	// Group and Member make a check one of several alternatives (every
	// backend of the host): a member is down when any of its checks is,
	// and the host is not ready only when every member of the group is
	// down. A grouped check is not Critical on its own.
	Group, Member string
	// Run returns nil when it is up, an error saying why when it is down,
	// or an error wrapping ErrUnknown when it cannot tell (counted as up).
	Run func(ctx context.Context) error
}

// ErrUnknown is a check that cannot tell (a driver without CheckBackend).
var ErrUnknown = errors.New("unknown")

// Statuses of a check and of the whole report.
const (
	StatusOK       = "ok"
	StatusDown     = "down"
	StatusUnknown  = "unknown"
	StatusReady    = "ready"
	StatusDegraded = "degraded" // ready, but a non-critical check is down
	StatusNotReady = "not ready"
	StatusStarting = "starting"
)

// Result is one check's outcome.
type Result struct {
	Status   string `json:"status"`
	Critical bool   `json:"critical"`
	Message  string `json:"message,omitempty"`
}

// Report is what /readyz answers.
type Report struct {
	Status string `json:"status"`
	// Message says why the host is not ready, for a human.
	Message string `json:"message,omitempty"`
	// Down names the checks that are down, critical or not.
	Down   []string          `json:"down,omitempty"`
	Checks map[string]Result `json:"checks,omitempty"`
}

// Ready reports whether the host should get traffic.
func (r Report) Ready() bool { return r.Status == StatusReady || r.Status == StatusDegraded }

// Checker runs the checks. It starts "starting"; Started ends that.
type Checker struct {
	checks  []Check
	timeout time.Duration
	started atomic.Bool
}

// New returns a Checker of checks, each bounded by timeout (zero:
// DefaultTimeout).
func New(timeout time.Duration, checks ...Check) *Checker {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Checker{checks: checks, timeout: timeout}
}

// Started marks the start-up repair pass done: from now on the checks
// decide.
func (c *Checker) Started() { c.started.Store(true) }

// IsStarted reports whether Started was called.
func (c *Checker) IsStarted() bool { return c.started.Load() }

// StartingMessage is why a starting host is not ready.
const StartingMessage = "starting: repair pass in progress"

// Check runs every check at once and reports.
func (c *Checker) Check(ctx context.Context) Report {
	if !c.IsStarted() {
		return Report{Status: StatusStarting, Message: StartingMessage}
	}
	results := make([]Result, len(c.checks))
	var wg sync.WaitGroup
	for i, ch := range c.checks {
		wg.Go(func() { results[i] = c.run(ctx, ch) })
	}
	wg.Wait()
	rep := Report{Status: StatusReady, Checks: make(map[string]Result, len(c.checks))}
	var critical []string
	members := map[string]map[string]bool{} // group → member → up
	for i, ch := range c.checks {
		r := results[i]
		if ch.Group != "" {
			if members[ch.Group] == nil {
				members[ch.Group] = map[string]bool{}
			}
			up, seen := members[ch.Group][ch.Member]
			members[ch.Group][ch.Member] = (up || !seen) && r.Status != StatusDown
		}
		rep.Checks[ch.Name] = r
		if r.Status != StatusDown {
			continue
		}
		rep.Down = append(rep.Down, ch.Name)
		if ch.Critical {
			critical = append(critical, ch.Name)
		}
	}
	for _, group := range slices.Sorted(maps.Keys(members)) {
		if !slices.Contains(slices.Collect(maps.Values(members[group])), true) {
			critical = append(critical, "every one of "+group)
		}
	}
	switch {
	case len(critical) > 0:
		rep.Status, rep.Message = StatusNotReady, "not ready: down: "+strings.Join(critical, ", ")
	case len(rep.Down) > 0:
		rep.Status = StatusDegraded
	}
	return rep
}

func (c *Checker) run(ctx context.Context, ch Check) Result {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ch.Run(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		// A check that ignores its context must not hold /readyz.
		err = fmt.Errorf("no answer within %s", c.timeout)
	}
	r := Result{Status: StatusOK, Critical: ch.Critical}
	switch {
	case err == nil:
	case errors.Is(err, ErrUnknown):
		r.Status, r.Message = StatusUnknown, osclient.RedactText(err.Error())
	default:
		r.Status, r.Message = StatusDown, osclient.RedactText(err.Error())
	}
	return r
}
