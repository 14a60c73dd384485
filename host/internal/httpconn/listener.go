package httpconn

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// warnEvery rate-limits the listener's repeated warnings.
const warnEvery = 10 * time.Second

// Accept retries back off from minBackoff, doubling up to maxBackoff (as
// net/http does), so a listener out of file descriptors does not spin.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// Listen wraps l: at most o.MaxConnections connections are open at once
// (Accept waits for one to close; the newcomers wait in the kernel's
// backlog, costing this process nothing), and a failing accept is logged
// (WARN for a lack of resources such as file descriptors, ERROR for
// anything else) and retried with backoff until it works or l is closed.
func Listen(l net.Listener, o Options) net.Listener {
	log := o.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	ll := &listener{Listener: l, log: log, max: o.MaxConnections, closed: make(chan struct{})}
	if o.MaxConnections > 0 {
		ll.slots = make(chan struct{}, o.MaxConnections)
	}
	return ll
}

type listener struct {
	net.Listener
	log   hclog.Logger
	max   int
	slots chan struct{} // one per open connection; nil: no bound

	closeOnce sync.Once
	closed    chan struct{}

	mu       sync.Mutex
	lastFull time.Time // last "max_connections reached" warning
}

func (l *listener) Accept() (net.Conn, error) {
	if err := l.acquire(); err != nil {
		return nil, err
	}
	c, err := l.accept()
	if err != nil {
		l.release()
		return nil, err
	}
	return &conn{Conn: c, release: l.release, log: l.log}, nil
}

func (l *listener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// acquire takes a connection slot, waiting while all are taken.
func (l *listener) acquire() error {
	if l.slots == nil {
		return nil
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	l.mu.Lock()
	if time.Since(l.lastFull) >= warnEvery {
		l.lastFull = time.Now()
		l.log.Warn("[api] max_connections reached: new connections wait until one closes", "max_connections", l.max)
	}
	l.mu.Unlock()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-l.closed:
		return net.ErrClosed
	}
}

func (l *listener) release() {
	if l.slots != nil {
		<-l.slots
	}
}

// accept retries failed accepts with backoff, logging them.
func (l *listener) accept() (net.Conn, error) {
	var (
		backoff    time.Duration
		failed     int
		lastLogged time.Time
	)
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			if failed > 0 {
				l.log.Info("accepting connections again", "failed_accepts", failed)
			}
			return c, nil
		}
		select {
		case <-l.closed:
			return nil, err
		default:
		}
		if errors.Is(err, net.ErrClosed) {
			return nil, err
		}
		failed++
		if time.Since(lastLogged) >= warnEvery {
			lastLogged = time.Now()
			if outOfResources(err) {
				l.log.Warn("cannot accept a connection: out of resources; retrying (raise the open-file limit, ulimit -n, or lower [api] max_connections)",
					"error", err, "failed_accepts", failed)
			} else {
				l.log.Error("cannot accept a connection; retrying", "error", err, "failed_accepts", failed)
			}
		}
		backoff = min(max(2*backoff, minBackoff), maxBackoff)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-l.closed:
			t.Stop()
			return nil, net.ErrClosed
		}
	}
}

// outOfResources reports accept errors that go away once connections
// close: the process's or the system's file descriptors, kernel memory.
func outOfResources(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// conn gives its slot back when closed (once, however often Close is
// called), and answers a request header that stopped arriving
// (header.go).
type conn struct {
	net.Conn
	once    sync.Once
	release func()
	log     hclog.Logger

	mu        sync.Mutex
	tracked   bool // trackRequests sees this conn's states
	inRequest bool // from a whole header to the end of its response
	header    int  // otherwise: the bytes read of the next request
	answered  bool // the 408 is sent; what net/http writes after it is dropped
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
