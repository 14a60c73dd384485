package driverplugin

import (
	"sync"
	"time"

	"github.com/mogan-manage/mogan-manage/proto/driverv1"
)

// flushAfter bounds how long a node waits in a partial batch: a driver that
// lists slowly (one backend page a second) still shows progress to the
// host, whose idle timeout would otherwise see silence until a batch fills.
const flushAfter = 50 * time.Millisecond

// batcher groups streamed nodes into messages of up to streamBatch nodes,
// sending a partial batch flushAfter after its first node.
type batcher struct {
	send func(*driverv1.ListManageableNodesResponse) error

	mu     sync.Mutex // guards everything below and serialises send
	batch  []*driverv1.Node
	timer  *time.Timer
	err    error // the first send error; the driver gets it on its next add
	closed bool
}

func newBatcher(send func(*driverv1.ListManageableNodesResponse) error) *batcher {
	return &batcher{send: send, batch: make([]*driverv1.Node, 0, streamBatch)}
}

// add queues one node, sending the batch when it is full.
func (b *batcher) add(n *driverv1.Node) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	b.batch = append(b.batch, n)
	switch {
	case len(b.batch) >= streamBatch:
		return b.flushLocked()
	case len(b.batch) == 1 && b.timer == nil:
		b.timer = time.AfterFunc(flushAfter, b.flushLate)
	case len(b.batch) == 1:
		b.timer.Reset(flushAfter)
	}
	return nil
}

// flushLate sends a batch that did not fill in time.
func (b *batcher) flushLate() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		_ = b.flushLocked() // kept in b.err for the driver's next add
	}
}

// close sends what is left; the stream must not be used after it.
func (b *batcher) close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return b.flushLocked()
}

func (b *batcher) flushLocked() error {
	if b.timer != nil {
		b.timer.Stop()
	}
	if b.err != nil || len(b.batch) == 0 {
		return b.err
	}
	b.err = b.send(&driverv1.ListManageableNodesResponse{Nodes: b.batch})
	// gRPC forbids touching a message after SendMsg (stats handlers may
	// read it late), so the next batch gets a fresh slice.
	b.batch = make([]*driverv1.Node, 0, streamBatch)
	return b.err
}
