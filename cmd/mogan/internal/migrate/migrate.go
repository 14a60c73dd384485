package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/batch"
	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/client"
)

// Outcome is what became of one machine, in the words the CLI prints.
type Outcome string

const (
	Migrated     Outcome = "migrated"
	WouldMigrate Outcome = "would migrate"
	Skipped      Outcome = "skipped"
	Failed       Outcome = "failed"
)

// Outcomes in the order a summary counts them.
var Outcomes = []Outcome{Migrated, WouldMigrate, Skipped, Failed}

// Reasons of the outcomes the runner decides by itself.
const (
	ReasonNotStarted  = "not started: interrupted (rerun to carry on)"
	reasonInterrupted = "interrupted before the API answered: rerun to carry on (the idempotency key finds it if it started)"
)

// InventoryKey is the idempotency key of a machine of an inventory going
// to target: a rerun sends the same key, so finds what an earlier run did.
func InventoryKey(target, machine string) string {
	return key(target + "\n" + machine)
}

// HandoffKey is the idempotency key of a handoff of node from source to
// target.
func HandoffKey(source, node, target string) string {
	return key(source + "\n" + node + "\n" + target)
}

func key(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Item is one migration to run: Label names the machine in the outcome
// (its name, or a node's uuid).
type Item struct {
	Label    string
	NodeUUID string // the source node, for a handoff
	Request  client.MigrationRequest
}

// Result is one machine's outcome. Reason says why it was skipped or
// failed; RequestID is the API's request id of the failure; Plan is a
// dry run's answer.
type Result struct {
	Label         string
	MigrationUUID string
	NodeUUID      string
	ServerUUID    string
	Outcome       Outcome
	Reason        string
	RequestID     string
	Plan          map[string]any
}

// API is what the runner needs of the Mogan API (*client.Client).
type API interface {
	CreateMigration(ctx context.Context, r client.MigrationRequest) (client.Migration, bool, error)
	DryRunMigration(ctx context.Context, r client.MigrationRequest) (map[string]any, error)
	GetMigration(ctx context.Context, id string) (client.Migration, error)
}

// Runner runs migrations, Concurrency unfinished at once.
type Runner struct {
	API         API
	Concurrency int
	DryRun      bool
	// PollInterval is the longest wait between two reads of a running
	// migration (the first comes sooner); reads back off to maxPollWait
	// while the API cannot be reached.
	PollInterval time.Duration
	// LostAfter is how long a migration may be unreadable (the API down)
	// before the runner stops following it; 0: 10 minutes.
	LostAfter time.Duration
	// Done, when set, is called once per item as it is decided, never
	// concurrently.
	Done func(Result)
}

// maxPollWait bounds the wait between two reads of a migration.
const maxPollWait = 30 * time.Second

// Run starts each item's migration and follows it to its end, and returns
// one result per item, in their order. Once stop is closed no migration
// starts (those items fail as not started) and Run follows the ones
// started to their end; cancelling follow stops following them too (they
// go on in the service).
func (r *Runner) Run(follow context.Context, stop <-chan struct{}, items []Item) []Result {
	var abortOnce sync.Once
	abort := make(chan struct{})
	abortRun := func() { abortOnce.Do(func() { close(abort) }) }
	return batch.Run(follow, batch.Options{Concurrency: r.Concurrency, Stop: stop, Abort: abort}, len(items),
		func(ctx context.Context, i int) Result { return r.one(ctx, items[i], abortRun) },
		func(i int) Result {
			return Result{Label: items[i].Label, NodeUUID: items[i].NodeUUID, Outcome: Failed, Reason: ReasonNotStarted}
		},
		func(_ int, res Result) {
			if r.Done != nil {
				r.Done(res)
			}
		})
}

func (r *Runner) one(ctx context.Context, it Item, abort func()) Result {
	res := Result{Label: it.Label, NodeUUID: it.NodeUUID}
	if r.DryRun {
		plan, err := r.API.DryRunMigration(ctx, it.Request)
		if err != nil {
			var noDry *client.NoDryRunMigrationError
			if errors.As(err, &noDry) {
				abort()
				res.MigrationUUID = noDry.UUID
			}
			return r.failed(ctx, res, err)
		}
		res.Outcome, res.Plan = WouldMigrate, plan
		return res
	}
	m, existing, err := r.API.CreateMigration(ctx, it.Request)
	if err != nil {
		return r.failed(ctx, res, err)
	}
	if existing && m.Status == client.MigrationDone {
		res = withMigration(res, m)
		res.Outcome, res.Reason = Skipped, fmt.Sprintf("done by an earlier run (migration %s)", m.UUID)
		return res
	}
	m, err = r.follow(ctx, m)
	res = withMigration(res, m)
	if err != nil {
		res.Outcome, res.Reason = Failed, err.Error()
		return res
	}
	switch m.Status {
	case client.MigrationDone:
		res.Outcome = Migrated
	case client.MigrationFailed:
		res.Outcome, res.RequestID = Failed, m.RequestID
		res.Reason = why(m, fmt.Sprintf("the machine stays in the target as it is; once fixed: mogan migration retry %s", m.UUID))
	default: // rolled_back
		res.Outcome, res.RequestID = Failed, m.RequestID
		res.Reason = why(m, "rolled back: nothing of it is left; fix it and rerun")
	}
	return res
}

func withMigration(res Result, m client.Migration) Result {
	res.MigrationUUID = m.UUID
	if m.NodeUUID != "" {
		res.NodeUUID = m.NodeUUID
	}
	res.ServerUUID = m.ServerUUID
	return res
}

// why words a migration that ended badly: its failed step and error, what
// follows, and the request id.
func why(m client.Migration, then string) string {
	var b strings.Builder
	if step, ok := m.FailedStep(); ok {
		fmt.Fprintf(&b, "step %s: %s; ", step.Name, step.Error)
	} else if m.Error != "" {
		fmt.Fprintf(&b, "%s; ", m.Error)
	}
	b.WriteString(then)
	if m.RequestID != "" {
		fmt.Fprintf(&b, " (request %s)", m.RequestID)
	}
	return b.String()
}

// failed is a refused or unanswered request.
func (r *Runner) failed(ctx context.Context, res Result, err error) Result {
	res.Outcome = Failed
	if ctx.Err() != nil {
		res.Reason = reasonInterrupted
		return res
	}
	res.Reason = err.Error()
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		res.RequestID = apiErr.RequestID
	}
	return res
}

// firstPoll is the first wait before a migration is read back: most
// steps take a fraction of a second to a few seconds, and a slot held
// idle after its migration ended is throughput lost.
const firstPoll = 100 * time.Millisecond

// follow reads m back until its status is final: first after firstPoll,
// then less often, up to PollInterval. A read that fails (the API
// restarting) is tried again, backing off to maxPollWait, for LostAfter;
// ctx done stops following.
func (r *Runner) follow(ctx context.Context, m client.Migration) (client.Migration, error) {
	interval := max(r.PollInterval, time.Millisecond)
	lostAfter := r.LostAfter
	if lostAfter <= 0 {
		lostAfter = 10 * time.Minute
	}
	wait := min(firstPoll, interval)
	var failingSince time.Time
	for !client.Final(m.Status) {
		select {
		case <-ctx.Done():
			return m, fmt.Errorf("stopped following migration %s (Ctrl-C): it goes on in the service; mogan migration show %s tells how it ends, a rerun carries on", m.UUID, m.UUID)
		case <-time.After(wait):
		}
		got, err := r.API.GetMigration(ctx, m.UUID)
		if err == nil {
			m, failingSince = got, time.Time{}
			wait = min(max(wait*3/2, wait+time.Millisecond), interval)
			continue
		}
		if ctx.Err() != nil {
			continue // said above
		}
		var apiErr *client.APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
			return m, fmt.Errorf("migration %s is gone: %w", m.UUID, err)
		}
		if failingSince.IsZero() {
			failingSince = time.Now()
		}
		if time.Since(failingSince) > lostAfter {
			return m, fmt.Errorf("lost track of migration %s: %w; mogan migration show %s tells how it ends", m.UUID, err, m.UUID)
		}
		wait = min(max(wait*2, interval), maxPollWait)
	}
	return m, nil
}
