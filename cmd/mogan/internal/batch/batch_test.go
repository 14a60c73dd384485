package batch

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRun: results in order, never more than Concurrency at once, done
// once per index and never concurrently.
func TestRun(t *testing.T) {
	for name, concurrency := range map[string]int{"one": 1, "three": 3, "zero means one": 0, "more than jobs": 50} {
		t.Run(name, func(t *testing.T) {
			var running, most atomic.Int32
			var inDone atomic.Bool
			var doneCalls []int
			got := Run(context.Background(), Options{Concurrency: concurrency}, 20,
				func(_ context.Context, i int) int {
					n := running.Add(1)
					for {
						m := most.Load()
						if n <= m || most.CompareAndSwap(m, n) {
							break
						}
					}
					time.Sleep(time.Millisecond)
					running.Add(-1)
					return i * i
				},
				func(int) int { return -1 },
				func(i, _ int) {
					if !inDone.CompareAndSwap(false, true) {
						t.Error("done called concurrently")
					}
					doneCalls = append(doneCalls, i)
					inDone.Store(false)
				})
			for i, r := range got {
				if r != i*i {
					t.Errorf("result %d = %d", i, r)
				}
			}
			if limit := int32(max(concurrency, 1)); most.Load() > limit {
				t.Errorf("%d jobs at once; want at most %d", most.Load(), limit)
			}
			if len(doneCalls) != 20 {
				t.Errorf("done called %d times", len(doneCalls))
			}
		})
	}
}

// TestRunStops: once Stop (or Abort) is closed no job starts; those
// running finish and keep their results.
func TestRunStops(t *testing.T) {
	for name, which := range map[string]string{"stop": "stop", "abort": "abort", "ctx": "ctx"} {
		t.Run(name, func(t *testing.T) {
			stop, abort := make(chan struct{}), make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			release := make(chan struct{})
			var started sync.WaitGroup
			started.Add(2)
			var once sync.Once
			got := Run(ctx, Options{Concurrency: 2, Stop: stop, Abort: abort}, 5,
				func(_ context.Context, i int) string {
					started.Done()
					once.Do(func() {
						go func() {
							started.Wait()
							switch which {
							case "stop":
								close(stop)
							case "abort":
								close(abort)
							case "ctx":
								cancel()
							}
							close(release)
						}()
					})
					<-release
					return "ran"
				},
				func(int) string { return "not started" }, nil)
			want := []string{"ran", "ran", "not started", "not started", "not started"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}
