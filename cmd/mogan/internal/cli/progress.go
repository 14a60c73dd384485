package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/adopt"
)

// progress shows adoptions or migrations as they end: a bar on a
// terminal, one line per node or machine otherwise (a log, a pipe, CI),
// both on stderr so stdout keeps only the table or the JSON.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	bar    *progressbar.ProgressBar // nil: lines
	total  int
	n      int
	failed int
	verb   string
}

// newProgress counts total items; verb says what is being done to them
// ("adopting", "checking").
func newProgress(env Env, total int, verb string) *progress {
	p := &progress{w: env.Stderr, total: total, verb: verb}
	if env.StderrIsTerminal && total > 0 {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(env.Stderr),
			progressbar.OptionSetDescription(p.verb),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30),
		)
	}
	return p
}

// adopted records one node's outcome (adopt.Runner.Done).
func (p *progress) adopted(r adopt.Result) {
	p.step("node "+r.NodeUUID, r.Outcome == adopt.Failed, line(r))
}

// step records one item's outcome: subject names it ("node X"), text
// says what became of it.
func (p *progress) step(subject string, failed bool, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if failed {
		p.failed++
	}
	if p.bar != nil {
		if p.failed > 0 {
			p.bar.Describe(fmt.Sprintf("%s (%d failed)", p.verb, p.failed))
		}
		_ = p.bar.Add(1)
		return
	}
	printf(p.w, "[%d/%d] %s: %s\n", p.n, p.total, subject, text)
}

func line(r adopt.Result) string {
	switch {
	case r.Outcome == adopt.Adopted:
		return "adopted as server " + r.ServerUUID
	case r.Reason != "":
		return string(r.Outcome) + ": " + r.Reason
	}
	return string(r.Outcome)
}

// finish ends the bar's line so what follows starts on its own.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		printf(p.w, "\n")
	}
}
