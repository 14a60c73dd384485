package driverplugin

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/proto/driverv1"
)

func TestBatcherSizes(t *testing.T) {
	tests := map[string]struct {
		nodes int
		want  []int // message sizes
	}{
		"none":          {nodes: 0, want: nil},
		"one":           {nodes: 1, want: []int{1}},
		"exactly full":  {nodes: streamBatch, want: []int{streamBatch}},
		"full and some": {nodes: 2*streamBatch + 3, want: []int{streamBatch, streamBatch, 3}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []int
			b := newBatcher(func(r *driverv1.ListManageableNodesResponse) error {
				got = append(got, len(r.GetNodes()))
				return nil
			})
			for range tc.nodes {
				if err := b.add(&driverv1.Node{}); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.close(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("message sizes (-want +got):\n%s", diff)
			}
		})
	}
}

// A partial batch leaves without waiting for more nodes or the end.
func TestBatcherFlushesLate(t *testing.T) {
	sent := make(chan int, 1)
	b := newBatcher(func(r *driverv1.ListManageableNodesResponse) error {
		sent <- len(r.GetNodes())
		return nil
	})
	for range 3 {
		if err := b.add(&driverv1.Node{}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case n := <-sent:
		if n != 3 {
			t.Errorf("late batch of %d nodes, want 3", n)
		}
	case <-time.After(time.Minute):
		t.Fatal("partial batch never sent")
	}
	if err := b.close(); err != nil {
		t.Fatal(err)
	}
}

// A failed send stops the driver at its next node.
func TestBatcherSendError(t *testing.T) {
	broken := errors.New("stream broken")
	b := newBatcher(func(*driverv1.ListManageableNodesResponse) error { return broken })
	var err error
	for i := 0; i <= streamBatch && err == nil; i++ {
		err = b.add(&driverv1.Node{})
	}
	if !errors.Is(err, broken) {
		t.Errorf("add after a failed send = %v, want %v", err, broken)
	}
	if err := b.add(&driverv1.Node{}); !errors.Is(err, broken) {
		t.Errorf("later add = %v, want %v", err, broken)
	}
	if err := b.close(); !errors.Is(err, broken) {
		t.Errorf("close = %v, want %v", err, broken)
	}
}
