// Package holdproxy is an HTTP proxy for tests that stands in front of a
// real service (Ironic, Neutron) and holds or delays chosen requests, so a
// test can kill the host while a step is in flight (before the service
// acted, or after it acted but before the host heard), or make a request
// land after its caller gave up. Forwarding is detached from the client: a
// held or delayed request reaches the service even when its client is gone
// — exactly what a slow service does to a caller that timed out.
package holdproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"
)

// Phase is when a held request waits.
type Phase int

const (
	// BeforeForward holds the request before the service sees it.
	BeforeForward Phase = iota
	// AfterForward forwards the request, then holds its response: the
	// service has acted, the caller has not heard.
	AfterForward
)

// Proxy forwards every request to its target.
type Proxy struct {
	// URL is the proxy's address, to configure in place of the target's.
	URL    string
	target string
	srv    *http.Server
	client *http.Client

	mu    sync.Mutex
	rules []*Rule
	log   []string // "METHOD /path" of every request received, in order
	done  chan struct{}
}

// Rule matches requests by method and path and holds or delays them.
type Rule struct {
	method string
	path   *regexp.Regexp
	phase  Phase
	delay  time.Duration
	nth    int // 0: every matching request; n: only the nth
	// oneIn, when not 0, lets the rule act on a matching request with
	// probability 1/oneIn, as rng draws it (under the proxy's mu).
	oneIn int
	rng   *rand.Rand
	// Reached is closed when the first matching request is held.
	Reached chan struct{}
	// Abandoned is closed when the client of a request the rule holds or
	// delays has gone away while it waited (e.g. its deadline passed): what
	// the proxy forwards from then on lands after its caller gave up.
	Abandoned chan struct{}
	// Forwarded is closed when the service has answered the first request
	// the rule held or delayed: a late request has landed.
	Forwarded chan struct{}
	once      sync.Once
	release   chan struct{}
	relOnce   sync.Once
	abandon   sync.Once
	forward   sync.Once
	count     int // guarded by the proxy's mu
	chosen    int // guarded by the proxy's mu: requests the rule acted on
	holding   int // guarded by the proxy's mu: requests it holds or delays now
}

// Count is how many requests matched the rule so far.
func (p *Proxy) Count(r *Rule) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return r.count
}

// Chosen is how many requests the rule has held or delayed so far (for
// Hold and Delay every matching one; for the Nth and OneIn forms only
// those they picked).
func (p *Proxy) Chosen(r *Rule) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return r.chosen
}

// Holding is how many requests the rule holds or delays right now
// (waiting for Release, before or after forwarding, or for their delay to
// pass): e.g. to wait until each of several concurrent callers has
// reached a held step, or, after Clear, until every delayed request has
// landed (0).
func (p *Proxy) Holding(r *Rule) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return r.holding
}

// hold counts a request the rule holds or delays until the returned
// function is called.
func (p *Proxy) hold(r *Rule) (done func()) {
	p.mu.Lock()
	r.holding++
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		r.holding--
		p.mu.Unlock()
	}
}

// Requests lists every request the proxy has received so far, as
// "METHOD /path", in order: a test counts the writes that reached (or
// would have reached) the service.
func (p *Proxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

// Release lets held requests (and those to come) go on.
func (r *Rule) Release() { r.relOnce.Do(func() { close(r.release) }) }

// Start listens on a free loopback port and forwards to target (a base
// URL such as http://127.0.0.1:6385).
func Start(target string) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		URL:    "http://" + l.Addr().String(),
		target: target,
		client: &http.Client{Timeout: 5 * time.Minute},
		done:   make(chan struct{}),
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// Close stops the proxy. Requests still held or delayed are dropped: the
// service never sees those held before forwarding.
func (p *Proxy) Close() {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
	_ = p.srv.Close()
}

// Hold holds the requests that match method and path at phase until the
// rule is released.
func (p *Proxy) Hold(method, pathPattern string, phase Phase) *Rule {
	return p.HoldNth(method, pathPattern, 0, phase)
}

// HoldNth is Hold for the nth matching request only (counted from 1; 0
// means every one): the others go on as if the rule were not there, e.g.
// a binding's undo after its first PUT was held.
func (p *Proxy) HoldNth(method, pathPattern string, n int, phase Phase) *Rule {
	r := newRule(method, pathPattern, n)
	r.phase = phase
	return p.add(r)
}

// Delay forwards the matching requests after d, whatever their clients do
// meanwhile.
func (p *Proxy) Delay(method, pathPattern string, d time.Duration) *Rule {
	return p.DelayNth(method, pathPattern, 0, d)
}

// DelayNth is Delay for the nth matching request only (counted from 1; 0
// means every one).
func (p *Proxy) DelayNth(method, pathPattern string, n int, d time.Duration) *Rule {
	r := newRule(method, pathPattern, n)
	r.delay = d
	r.Release()
	return p.add(r)
}

// DelayOneIn delays by d each matching request with probability 1/n, as
// rng decides (drawn under the proxy's lock, so one seeded rng makes a
// given order of requests delay the same ones); the others go on as if the
// rule were not there. n < 1 is taken as 1 (every request).
func (p *Proxy) DelayOneIn(method, pathPattern string, n int, rng *rand.Rand, d time.Duration) *Rule {
	r := newRule(method, pathPattern, 0)
	r.oneIn, r.rng, r.delay = max(n, 1), rng, d
	r.Release()
	return p.add(r)
}

func newRule(method, pathPattern string, n int) *Rule {
	return &Rule{method: method, path: regexp.MustCompile(pathPattern), nth: n,
		Reached: make(chan struct{}), Abandoned: make(chan struct{}), Forwarded: make(chan struct{}),
		release: make(chan struct{})}
}

// Clear drops every rule (held requests stay held until released).
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

func (p *Proxy) add(r *Rule) *Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, r)
	return r
}

func (p *Proxy) match(r *http.Request) *Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = append(p.log, r.Method+" "+r.URL.Path)
	for _, rule := range p.rules {
		if (rule.method == "" || rule.method == r.Method) && rule.path.MatchString(r.URL.Path) {
			rule.count++
			if rule.oneIn > 0 && rule.rng.IntN(rule.oneIn) != 0 {
				continue
			}
			if rule.nth == 0 || rule.count == rule.nth {
				rule.chosen++
				return rule
			}
		}
	}
	return nil
}

// wait blocks until the rule is released (true) or the proxy closes
// (false: the request is dropped, never forwarded or answered). A client
// that goes away meanwhile closes Abandoned; its request still goes on.
func (p *Proxy) wait(ctx context.Context, rule *Rule) bool {
	defer p.hold(rule)()
	rule.once.Do(func() { close(rule.Reached) })
	return p.sleep(ctx, rule, rule.release)
}

// sleep blocks until until is closed (true) or the proxy closes (false),
// closing rule's Abandoned if the client goes away meanwhile.
func (p *Proxy) sleep(ctx context.Context, rule *Rule, until <-chan struct{}) bool {
	gone := ctx.Done()
	for {
		select {
		case <-until:
			return true
		case <-p.done:
			return false
		case <-gone:
			rule.abandon.Do(func() { close(rule.Abandoned) })
			gone = nil
		}
	}
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	rule := p.match(r)
	if rule != nil && rule.delay > 0 {
		// Counted until the service has answered: a delayed request is
		// Holding until it has landed.
		defer p.hold(rule)()
		elapsed := make(chan struct{})
		timer := time.AfterFunc(rule.delay, func() { close(elapsed) })
		ok := p.sleep(r.Context(), rule, elapsed)
		timer.Stop()
		if !ok {
			return // closed: dropped, as a held request
		}
	}
	if rule != nil && rule.delay == 0 && rule.phase == BeforeForward && !p.wait(r.Context(), rule) {
		return
	}
	// Detached from the client: the service gets the request even if the
	// caller has gone.
	out, err := http.NewRequestWithContext(context.Background(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	resp, err := p.client.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if rule != nil {
		rule.forward.Do(func() { close(rule.Forwarded) })
	}
	if rule != nil && rule.delay == 0 && rule.phase == AfterForward && !p.wait(r.Context(), rule) {
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}
