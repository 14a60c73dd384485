package holdproxy

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestHoldAndDelay(t *testing.T) {
	var hits atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, r.Method+" "+r.URL.Path)
	}))
	defer backend.Close()
	p, err := Start(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	get := func(ctx context.Context, method, path string) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, method, p.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}

	// Not matched: straight through.
	if got, err := get(t.Context(), http.MethodGet, "/v1/nodes"); err != nil || got != "GET /v1/nodes" {
		t.Fatalf("plain request = %q, %v", got, err)
	}

	// BeforeForward: the backend has not seen it while held.
	before := p.Hold(http.MethodPatch, `^/v1/nodes/`, BeforeForward)
	errc := make(chan error, 1)
	go func() { _, err := get(context.Background(), http.MethodPatch, "/v1/nodes/x"); errc <- err }()
	<-before.Reached
	if n := hits.Load(); n != 1 {
		t.Errorf("backend hits while held before forwarding = %d, want 1", n)
	}
	before.Release()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("backend hits after release = %d, want 2", n)
	}
	p.Clear()

	// AfterForward: the backend acted, the caller has not heard.
	after := p.Hold(http.MethodPut, `^/v2.0/ports/`, AfterForward)
	go func() { _, err := get(context.Background(), http.MethodPut, "/v2.0/ports/y"); errc <- err }()
	<-after.Reached
	if n := hits.Load(); n != 3 {
		t.Errorf("backend hits while the response is held = %d, want 3", n)
	}
	after.Release()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	p.Clear()

	// Delay: the request lands after its caller gave up.
	p.Delay(http.MethodPatch, `^/v1/nodes/`, 300*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := get(ctx, http.MethodPatch, "/v1/nodes/z"); err == nil {
		t.Fatal("delayed request answered before the caller's deadline")
	}
	deadline := time.Now().Add(5 * time.Second)
	for hits.Load() != 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := hits.Load(); n != 4 {
		t.Errorf("the delayed request never reached the backend (hits %d)", n)
	}
	want := []string{"GET /v1/nodes", "PATCH /v1/nodes/x", "PUT /v2.0/ports/y", "PATCH /v1/nodes/z"}
	if got := p.Requests(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Requests() = %q, want %q", got, want)
	}
}

func TestNthAbandonedForwarded(t *testing.T) {
	var hits atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, r.Method+" "+r.URL.Path)
	}))
	defer backend.Close()
	p, err := Start(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	put := func(ctx context.Context, path string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, p.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}

	// Only the first PUT is held; its client gives up (Abandoned); the
	// second goes straight through; the first lands once released
	// (Forwarded).
	first := p.HoldNth(http.MethodPut, `^/v2.0/ports/`, 1, BeforeForward)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- put(ctx, "/v2.0/ports/a") }()
	<-first.Reached
	cancel()
	select {
	case <-first.Abandoned:
	case <-time.After(5 * time.Second):
		t.Fatal("the held request's client went away, Abandoned not closed")
	}
	if err := <-errc; err == nil {
		t.Fatal("a cancelled client got an answer")
	}
	if err := put(t.Context(), "/v2.0/ports/b"); err != nil {
		t.Fatalf("the second PUT (not the rule's): %v", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("backend hits while the first PUT is held = %d, want 1 (the second)", n)
	}
	select {
	case <-first.Forwarded:
		t.Fatal("Forwarded closed before the held request was released")
	default:
	}
	first.Release()
	select {
	case <-first.Forwarded:
	case <-time.After(5 * time.Second):
		t.Fatal("the released request never landed")
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("backend hits after the release = %d, want 2", n)
	}
	if n := p.Count(first); n != 2 {
		t.Errorf("Count = %d, want 2 (every matching request)", n)
	}

	// DelayNth: the second request is delayed, and lands after its caller
	// gave up.
	p.Clear()
	second := p.DelayNth(http.MethodPatch, `^/v1/nodes/`, 2, 300*time.Millisecond)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPatch, p.URL+"/v1/nodes/x", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		_ = resp.Body.Close()
	}
	short, cancelShort := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancelShort()
	req, _ = http.NewRequestWithContext(short, http.MethodPatch, p.URL+"/v1/nodes/x", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatal("the delayed request answered before its caller's deadline")
	}
	for _, ch := range []chan struct{}{second.Abandoned, second.Forwarded} {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("the delayed request was not abandoned, then forwarded")
		}
	}
}

// TestDelayOneInHolding: DelayOneIn delays the requests its seeded rng
// picks, the same ones for the same seed and order, and lets the rest
// through at once; Holding counts the requests a rule holds or delays now
// (a delayed one until it has landed).
func TestDelayOneInHolding(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Method+" "+r.URL.Path)
	}))
	defer backend.Close()
	p, err := Start(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	do := func(ctx context.Context, method, path string) error {
		req, _ := http.NewRequestWithContext(ctx, method, p.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}

	// Which of 40 requests a seed delays, sent one after the other (each
	// once the proxy has matched the one before): Chosen tells, and the
	// delayed ones are still held.
	var rules []*Rule
	picks := func(seed uint64) []bool {
		p.Clear()
		rule := p.DelayOneIn(http.MethodGet, `^/v1/nodes`, 4, rand.New(rand.NewPCG(seed, seed)), 5*time.Second)
		rules = append(rules, rule)
		out := make([]bool, 40)
		for i := range out {
			before := p.Chosen(rule)
			go func() { _ = do(context.Background(), http.MethodGet, "/v1/nodes") }()
			for end := time.Now().Add(5 * time.Second); p.Count(rule) <= i && time.Now().Before(end); {
				time.Sleep(time.Millisecond)
			}
			out[i] = p.Chosen(rule) > before
		}
		if n := p.Count(rule); n != len(out) {
			t.Errorf("seed %d: Count = %d, want %d (every matching request)", seed, n, len(out))
		}
		if n := p.Holding(rule); n != countTrue(out) {
			t.Errorf("seed %d: Holding = %d, want the %d delayed requests", seed, n, countTrue(out))
		}
		return out
	}
	first, again, other := picks(7), picks(7), picks(8)
	if n := countTrue(first); n == 0 || n == len(first) {
		t.Errorf("one in four delayed %d of %d requests", n, len(first))
	}
	if fmt.Sprint(first) != fmt.Sprint(again) {
		t.Errorf("the same seed delayed other requests:\n%v\n%v", first, again)
	}
	if fmt.Sprint(first) == fmt.Sprint(other) {
		t.Errorf("seeds 7 and 8 delayed the same requests: %v", first)
	}
	// The delayed requests land (Clear drops the rules, not what they
	// delay); then none is held.
	held := func() int {
		n := 0
		for _, r := range rules {
			n += p.Holding(r)
		}
		return n
	}
	for deadline := time.Now().Add(20 * time.Second); held() != 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if n := held(); n != 0 {
		t.Errorf("Holding = %d once the delays are over, want 0", n)
	}

	// Holding: two held requests, then none once released.
	p.Clear()
	hold := p.Hold(http.MethodPut, `^/v2.0/ports/`, AfterForward)
	errc := make(chan error, 2)
	for range 2 {
		go func() { errc <- do(context.Background(), http.MethodPut, "/v2.0/ports/a") }()
	}
	for end := time.Now().Add(5 * time.Second); p.Holding(hold) < 2 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := p.Holding(hold); n != 2 {
		t.Errorf("Holding = %d with two requests held, want 2", n)
	}
	hold.Release()
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if n := p.Holding(hold); n != 0 {
		t.Errorf("Holding = %d after the release, want 0", n)
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
