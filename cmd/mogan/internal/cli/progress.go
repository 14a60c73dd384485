package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/adopt"
)

// progress shows adoptions as they end: a bar on a terminal, one line per
// node otherwise (a log, a pipe, CI), both on stderr so stdout keeps only
// the table or the JSON.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	bar    *progressbar.ProgressBar // nil: lines
	total  int
	n      int
	failed int
	verb   string
}

func newProgress(env Env, total int, dryRun bool) *progress {
	p := &progress{w: env.Stderr, total: total, verb: "adopting"}
	if dryRun {
		p.verb = "checking"
	}
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

// done records one node's outcome (adopt.Runner.Done).
func (p *progress) done(r adopt.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if r.Outcome == adopt.Failed {
		p.failed++
	}
	if p.bar != nil {
		if p.failed > 0 {
			p.bar.Describe(fmt.Sprintf("%s (%d failed)", p.verb, p.failed))
		}
		_ = p.bar.Add(1)
		return
	}
	printf(p.w, "[%d/%d] node %s: %s\n", p.n, p.total, r.NodeUUID, line(r))
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
