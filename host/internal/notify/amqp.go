package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// tuning holds the publisher's timings; tests shorten them.
type tuning struct {
	backoffMin, backoffMax time.Duration // reconnect delays, doubling up to the cap
	dialTimeout            time.Duration // TCP connect plus AMQP handshake
	confirmTimeout         time.Duration // a broker that confirms no faster is treated as broken
	logEvery               time.Duration // at most one drop line per this interval
}

func defaultTuning() tuning {
	return tuning{
		backoffMin:     100 * time.Millisecond,
		backoffMax:     30 * time.Second,
		dialTimeout:    10 * time.Second,
		confirmTimeout: 10 * time.Second,
		logEvery:       10 * time.Second,
	}
}

// outgoing is one AMQP message waiting to be published.
type outgoing struct {
	eventType  string
	routingKey string
	body       []byte
}

// amqpNotifier is oslo's messagingv2 driver on RabbitMQ. Notify encodes
// and queues; one goroutine (run) connects lazily, publishes with
// publisher confirms and reconnects with capped exponential backoff.
type amqpNotifier struct {
	cfg     Config
	brokers []broker
	tune    tuning
	log     hclog.Logger

	queue chan outgoing

	mu     sync.RWMutex // guards closed against a concurrent Notify
	closed bool
	stop   chan struct{} // closed by Close: publish what is queued, then exit

	runCtx context.Context    // ended when Close's deadline passes
	abort  context.CancelFunc //
	done   chan struct{}      // closed when run returns

	sockMu sync.Mutex
	sock   net.Conn // the current socket, closed on abort to unblock a stuck write

	dropped     atomic.Uint64
	nextDropLog atomic.Int64 // unix nanoseconds before which drop lines are suppressed
}

func newAMQP(ctx context.Context, cfg Config, tune tuning) (*amqpNotifier, error) {
	brokers, err := parseTransportURL(cfg.TransportURL)
	if err != nil {
		return nil, err
	}
	runCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	a := &amqpNotifier{
		cfg:     cfg,
		brokers: brokers,
		tune:    tune,
		log:     cfg.Logger.Named("notify"),
		queue:   make(chan outgoing, cfg.BufferSize),
		stop:    make(chan struct{}),
		runCtx:  runCtx,
		abort:   abort,
		done:    make(chan struct{}),
	}
	go a.run()
	return a, nil
}

func (a *amqpNotifier) Notify(_ context.Context, n Notification) {
	msg := message(n, a.cfg.PublisherID, time.Now())
	items := make([]outgoing, 0, len(a.cfg.Topics))
	for _, topic := range a.cfg.Topics {
		body, err := envelope(msg, n.Context)
		if err != nil {
			a.drop(len(a.cfg.Topics), n.EventType, "payload is not JSON: "+err.Error())
			return
		}
		items = append(items, outgoing{eventType: n.EventType, routingKey: routingKey(topic, n.Priority), body: body})
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		a.drop(len(items), n.EventType, "notifier is closed")
		return
	}
	for _, it := range items {
		select {
		case a.queue <- it:
		default:
			a.drop(1, n.EventType, fmt.Sprintf("buffer of %d is full (broker down or slow)", cap(a.queue)))
		}
	}
}

func (a *amqpNotifier) Dropped() uint64 { return a.dropped.Load() }

// drop counts n lost messages and logs at most one line per logEvery;
// dropped_total shows what the suppressed lines would have said.
func (a *amqpNotifier) drop(n int, eventType, reason string) {
	total := a.dropped.Add(uint64(n))
	now := time.Now().UnixNano()
	next := a.nextDropLog.Load()
	if now < next || !a.nextDropLog.CompareAndSwap(next, now+int64(a.tune.logEvery)) {
		return
	}
	a.log.Warn("notification dropped", "event_type", eventType, "reason", reason, "dropped_total", total)
}

func (a *amqpNotifier) Close(ctx context.Context) error {
	a.mu.Lock()
	already := a.closed
	if !already {
		a.closed = true
		close(a.stop)
	}
	a.mu.Unlock()

	var deadline error
	select {
	case <-a.done:
	case <-ctx.Done():
		deadline = ctx.Err()
	}
	before := a.dropped.Load()
	if deadline != nil {
		a.abort()
		a.closeSocket()
		<-a.done // run returns promptly: every wait in it watches runCtx or the socket
	}
	for drained := false; !drained; {
		select {
		case it := <-a.queue:
			a.drop(1, it.eventType, "not sent before shutdown")
		default:
			drained = true
		}
	}
	a.abort()
	if deadline != nil {
		return fmt.Errorf("notifications: %d not sent before the shutdown deadline: %w", a.dropped.Load()-before, deadline)
	}
	return nil
}

func (a *amqpNotifier) closeSocket() {
	a.sockMu.Lock()
	defer a.sockMu.Unlock()
	if a.sock != nil {
		_ = a.sock.Close()
	}
}

// next returns the next message to publish; false when Close asked to stop
// and the queue is empty, or when Close's deadline passed.
func (a *amqpNotifier) next() (outgoing, bool) {
	select {
	case it := <-a.queue:
		return it, true
	case <-a.runCtx.Done():
		return outgoing{}, false
	case <-a.stop:
		select {
		case it := <-a.queue:
			return it, true
		default:
			return outgoing{}, false
		}
	}
}

// sleep waits d; false when Close's deadline passed first.
func (a *amqpNotifier) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-a.runCtx.Done():
		return false
	}
}

func (a *amqpNotifier) run() {
	defer close(a.done)
	var s *session
	defer func() {
		if s != nil {
			s.close()
		}
	}()
	var pending *outgoing
	delay := a.tune.backoffMin
	backoff := func() bool {
		ok := a.sleep(delay)
		delay = min(delay*2, a.tune.backoffMax)
		return ok
	}
	for {
		if pending == nil {
			it, ok := a.next()
			if !ok {
				return
			}
			pending = &it
		}
		if s == nil {
			var err error
			if s, err = a.connect(); err != nil {
				if a.runCtx.Err() != nil {
					a.drop(1, pending.eventType, "not sent before shutdown")
					return
				}
				a.log.Warn("cannot connect to the notification broker; will retry", "error", err, "retry_in", delay)
				if !backoff() {
					a.drop(1, pending.eventType, "not sent before shutdown")
					return
				}
				continue
			}
			a.log.Info("connected to the notification broker", "broker", s.broker.String(), "exchange", a.cfg.ControlExchange)
		}
		err := s.publish(a.runCtx, *pending, a.tune.confirmTimeout)
		switch {
		case err == nil:
			pending = nil
			delay = a.tune.backoffMin
		case errors.Is(err, errNacked):
			a.drop(1, pending.eventType, err.Error())
			pending = nil
		default:
			s.close()
			s = nil
			if a.runCtx.Err() != nil {
				a.drop(1, pending.eventType, "not sent before shutdown")
				return
			}
			// The message is sent again on the next connection: if the
			// broker did get it, oslo listeners drop the copy by _unique_id.
			a.log.Warn("publishing a notification failed; reconnecting", "event_type", pending.eventType, "error", err, "retry_in", delay)
			if !backoff() {
				a.drop(1, pending.eventType, "not sent before shutdown")
				return
			}
		}
	}
}
