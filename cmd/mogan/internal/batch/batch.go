package batch

import (
	"context"
	"sync"
)

// Options bound a run and say when to stop starting jobs.
type Options struct {
	// Concurrency is how many jobs run at once (at least 1).
	Concurrency int
	// Stop and Abort, once closed, start no more jobs: Stop is the
	// user's (Ctrl-C), Abort the run's own (a job found the run must
	// end). Either may be nil.
	Stop, Abort <-chan struct{}
}

// Run calls job for each index in [0, n), at most o.Concurrency at once,
// in order, and returns their results in that order. Once Stop or Abort is
// closed, or ctx is done, no job starts: each index left gets notStarted's
// result. done, when set, is called once per index as its result is known,
// never concurrently. Run returns when every job started has returned;
// cancelling ctx is how a caller abandons those (jobs get ctx).
func Run[R any](ctx context.Context, o Options, n int, job func(ctx context.Context, i int) R, notStarted func(i int) R, done func(i int, r R)) []R {
	results := make([]R, n)
	var mu sync.Mutex // serializes done
	finish := func(i int, r R) {
		mu.Lock()
		defer mu.Unlock()
		results[i] = r
		if done != nil {
			done(i, r)
		}
	}
	slots := make(chan struct{}, max(o.Concurrency, 1))
	var wg sync.WaitGroup
	stopped := false
	for i := range n {
		if !stopped {
			// A stop already asked for wins over a free slot.
			select {
			case <-o.Stop:
				stopped = true
			case <-o.Abort:
				stopped = true
			case <-ctx.Done():
				stopped = true
			default:
				select {
				case <-o.Stop:
					stopped = true
				case <-o.Abort:
					stopped = true
				case <-ctx.Done():
					stopped = true
				case slots <- struct{}{}:
				}
			}
		}
		if stopped {
			finish(i, notStarted(i))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			finish(i, job(ctx, i))
		}()
	}
	wg.Wait()
	return results
}
