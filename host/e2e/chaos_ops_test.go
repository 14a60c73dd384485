package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The chaos test's clients: each operation (an adoption of a node, or
// the unmanage of a setup server) begins at a seeded moment of the chaos
// window on a seeded replica, and is tried again on the other replica, up
// to chaosAttempts times, when its answer says nothing was decided (see
// decided), as an operator's automation would. Every attempt is recorded
// for the end's accounting.

const (
	opAdopt    = "adopt"
	opUnmanage = "unmanage"
)

// chaosOp is one operation and what its attempts got.
type chaosOp struct {
	kind  string
	node  *chaosNode
	at    time.Duration // from the chaos's start
	first int           // the replica of the first attempt
	named bool          // an adoption naming its backend in the body
	seed  uint64        // the client's own choices (its pauses)

	attempts []attempt // written by its client alone, read once all are done
	done     atomic.Bool
}

// attempt is one request of an operation.
type attempt struct {
	replica   string
	sent      time.Duration // from the test's start
	took      time.Duration
	code      int    // 0: no answer (the replica was down, or died)
	err       string // why there was no answer
	requestID string
	body      string // the answer, clipped
	server    string // a 201's server uuid
}

func (a attempt) String() string {
	what := fmt.Sprintf("%d %s", a.code, clipped(a.body, 160))
	if a.code == 0 {
		what = "no answer: " + a.err
	}
	return fmt.Sprintf("via %s at %.1fs (%.1fs) %s %s", a.replica, a.sent.Seconds(), a.took.Seconds(), orDash(a.requestID), what)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clipped(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// decided reports whether an answer ends the operation: not when there
// was none, nor for a 5xx, "taken over by another replica", or "already
// managed" (an earlier attempt's claim, which its rollback may yet lift).
func (a attempt) decided() bool {
	return a.code != 0 && a.code < 500 && !strings.Contains(a.body, "taken over by another replica") &&
		!strings.Contains(a.body, "is already managed by another server")
}

// planOps makes one adoption per node not adopted at setup and one
// unmanage per setup server, in a seeded order, each with its moment,
// replica and form.
func (env *chaosEnv) planOps() {
	for _, n := range env.nodes {
		kind := opAdopt
		if n.setup {
			kind = opUnmanage
		}
		env.ops = append(env.ops, &chaosOp{kind: kind, node: n})
	}
	env.rng.Shuffle(len(env.ops), func(i, j int) { env.ops[i], env.ops[j] = env.ops[j], env.ops[i] })
	for _, op := range env.ops {
		op.at = time.Duration(env.rng.Int64N(int64(chaosWindow * time.Second)))
		op.first = env.rng.IntN(len(env.replicas))
		op.named = env.rng.IntN(2) == 0
		op.seed = env.rng.Uint64()
	}
}

// runOps starts every operation's client and returns a channel closed
// when all have finished. The clients touch no testing.T: they may
// outlive a failed test.
func (env *chaosEnv) runOps() <-chan struct{} {
	client := &http.Client{Timeout: 3 * time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	var wg sync.WaitGroup
	for _, op := range env.ops {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(env.seed, op.seed))
			time.Sleep(time.Until(start.Add(op.at)))
			r := op.first
			for range chaosAttempts {
				a := env.send(client, env.replicas[r], op)
				op.attempts = append(op.attempts, a)
				if a.decided() {
					break
				}
				time.Sleep(time.Second + time.Duration(rng.IntN(3000))*time.Millisecond)
				r = (r + 1) % len(env.replicas)
			}
			op.done.Store(true)
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

// send makes one attempt of op through r.
func (env *chaosEnv) send(client *http.Client, r *replica, op *chaosOp) (a attempt) {
	url, body := r.url+"/v1/servers/"+op.node.server+"/unmanage", ""
	if op.kind == opAdopt {
		backend := ""
		if op.named {
			backend = op.node.backend
		}
		url, body = r.url+"/v1/manageable_servers", adoptBody("chaos-"+op.node.UUID[:8], op.node.UUID, backend)
	}
	a = attempt{replica: r.name, sent: time.Since(env.began)}
	defer func() { a.took = time.Since(env.began) - a.sent }()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		a.err = err.Error()
		return a
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		a.err = err.Error()
		return a
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a.code, a.requestID, a.body = resp.StatusCode, resp.Header.Get("X-Openstack-Request-Id"), string(b)
	if a.code == http.StatusCreated {
		var srv struct {
			UUID string `json:"uuid"`
		}
		_ = json.Unmarshal(b, &srv)
		a.server = srv.UUID
	}
	return a
}

// pendingOps lists the operations whose clients have not finished (read
// while they may still run: only for a failure's message).
func (env *chaosEnv) pendingOps() string {
	var out []string
	for _, op := range env.ops {
		if !op.done.Load() {
			out = append(out, fmt.Sprintf("%s of node %s", op.kind, op.node.UUID))
		}
	}
	return strings.Join(out, "\n")
}

// faultTally lists the most frequent error answers (faultstrings with
// their uuids, addresses and numbers blanked), and every 500 in full with
// the log lines of its request: a 500 is a bug, whatever else the chaos
// did (the test does not fail on it: it judges the end state).
func (env *chaosEnv) faultTally() (tally string, bugs int) {
	counts := map[string]int{}
	var lines []string
	for _, op := range env.ops {
		for _, a := range op.attempts {
			if a.code < 400 {
				continue
			}
			var e struct {
				Message string `json:"error_message"`
			}
			var fault struct {
				Faultstring string `json:"faultstring"`
			}
			if json.Unmarshal([]byte(a.body), &e) == nil && json.Unmarshal([]byte(e.Message), &fault) == nil {
				counts[fmt.Sprintf("%s %d %s", op.kind, a.code, blanked.ReplaceAllString(fault.Faultstring, "…"))]++
			}
			if a.code == http.StatusInternalServerError {
				bugs++
				lines = append(lines, fmt.Sprintf("%s of node %s: %s", op.kind, op.node.UUID, a))
				for _, l := range env.logLines([]string{a.requestID}) {
					lines = append(lines, "    "+clipped(l, 600))
				}
			}
		}
	}
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range counts {
		all = append(all, kv{k, n})
	}
	slices.SortFunc(all, func(a, b kv) int { return b.n - a.n })
	var out []string
	for _, e := range all[:min(8, len(all))] {
		out = append(out, fmt.Sprintf("×%d %s", e.n, clipped(e.k, 200)))
	}
	if bugs > 0 {
		out = append(out, fmt.Sprintf("500s (%d), each with its request's log lines:", bugs))
		out = append(out, lines...)
	}
	return strings.Join(out, "\n  "), bugs
}

// blanked are the parts of a faultstring that differ from node to node.
var blanked = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|https?://[^ ]+|[0-9]+(\.[0-9]+)?`)

// answerTally counts the attempts by operation and answer.
func (env *chaosEnv) answerTally() string {
	tally := map[string]int{}
	attempts := 0
	for _, op := range env.ops {
		for _, a := range op.attempts {
			attempts++
			what := fmt.Sprint(a.code)
			switch {
			case a.code == 0:
				what = "no answer"
			case strings.Contains(a.body, "taken over by another replica"):
				what += " taken over"
			}
			tally[op.kind+" "+what]++
		}
	}
	var parts []string
	for k, n := range tally {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, n))
	}
	slices.Sort(parts)
	return fmt.Sprintf("%d operations, %d attempts (%s)", len(env.ops), attempts, strings.Join(parts, ", "))
}
