package httpconn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

func logger(buf *proctest.Buffer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: buf, Level: hclog.Debug})
}

// acceptLoop accepts from l into a channel until l is closed.
func acceptLoop(t *testing.T, l net.Listener) <-chan net.Conn {
	t.Helper()
	ch := make(chan net.Conn, 16)
	go func() {
		defer close(ch)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			ch <- c
		}
	}()
	return ch
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestListenBoundsOpenConnections(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &proctest.Buffer{}
	l := Listen(inner, Options{MaxConnections: 2, Logger: logger(logs)})
	defer l.Close()
	accepted := acceptLoop(t, l)

	var open []net.Conn
	for range 2 {
		dial(t, inner.Addr().String())
		select {
		case c := <-accepted:
			open = append(open, c)
		case <-time.After(5 * time.Second):
			t.Fatal("a connection under the bound was not accepted")
		}
	}
	dial(t, inner.Addr().String()) // the third waits in the backlog
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted with max_connections = 2")
	case <-time.After(300 * time.Millisecond):
	}
	// Closing twice gives back one slot, not two.
	_ = open[0].Close()
	_ = open[0].Close()
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting connection was not accepted once one closed")
	}
	dial(t, inner.Addr().String())
	select {
	case <-accepted:
		t.Fatal("a double Close freed two slots")
	case <-time.After(300 * time.Millisecond):
	}
	if !strings.Contains(logs.String(), "[WARN]  [api] max_connections reached") {
		t.Errorf("no warning when the bound was reached; log:\n%s", logs)
	}
	_ = open[1].Close()
}

func TestCloseEndsAnAcceptWaitingForASlot(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listen(inner, Options{MaxConnections: 1})
	dial(t, inner.Addr().String())
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() { _, err := l.Accept(); done <- err }()
	time.Sleep(50 * time.Millisecond)
	_ = l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close = %v; want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still waiting for a slot after Close")
	}
}

// failingListener fails its first n accepts with err, then accepts.
type failingListener struct {
	net.Listener
	n   int
	err error
}

func (f *failingListener) Accept() (net.Conn, error) {
	if f.n > 0 {
		f.n--
		return nil, f.err
	}
	a, b := net.Pipe()
	_ = b.Close()
	return a, nil
}

func TestAcceptErrorsAreLoggedAndRetried(t *testing.T) {
	tests := map[string]struct {
		err  error
		want string
	}{
		"out of file descriptors": {
			err:  &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)},
			want: "[WARN]  cannot accept a connection: out of resources; retrying (raise the open-file limit",
		},
		"anything else": {
			err:  &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EPERM)},
			want: "[ERROR] cannot accept a connection; retrying",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			logs := &proctest.Buffer{}
			l := Listen(&failingListener{n: 3, err: tc.err}, Options{MaxConnections: 5, Logger: logger(logs)})
			c, err := l.Accept()
			if err != nil {
				t.Fatalf("Accept = %v; want the connection after three failures", err)
			}
			_ = c.Close()
			out := logs.String()
			if !strings.Contains(out, tc.want) || !strings.Contains(out, "accepting connections again: failed_accepts=3") {
				t.Errorf("log does not say %q and that accepting resumed:\n%s", tc.want, out)
			}
			// Rate-limited: one line for the three failures.
			if n := strings.Count(out, "cannot accept"); n != 1 {
				t.Errorf("%d lines for one burst of failures; want 1", n)
			}
		})
	}
}

// serve runs NewServer(h) on a loopback listener for the test.
func serve(t *testing.T, h http.Handler, o Options) string {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h, o)
	go func() { _ = srv.Serve(Listen(inner, o)) }()
	t.Cleanup(func() { _ = srv.Close() })
	return inner.Addr().String()
}

// readBody answers 200 with the body's length, or 408 when it stalls.
var readBody = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		w.WriteHeader(http.StatusRequestTimeout)
		return
	}
	_, _ = fmt.Fprintf(w, "%d", len(b))
})

// closedWithin reports whether the server closes c within limit.
func closedWithin(c net.Conn, r *bufio.Reader, limit time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, r)
	var ne net.Error
	return !errors.As(err, &ne) || !ne.Timeout()
}

func TestBodyReadsWaitAtMostTheTimeout(t *testing.T) {
	const timeout = 400 * time.Millisecond
	addr := serve(t, readBody, Options{ClientSocketTimeout: timeout})
	tests := map[string]struct {
		bytes      int // of the 8 announced, sent 150 ms apart
		wantStatus string
	}{
		// 1.2 s in all, longer than the timeout, but never silent for long.
		"steady": {8, "HTTP/1.1 200 OK"},
		"stalls": {3, "HTTP/1.1 408 Request Timeout"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := dial(t, addr)
			r := bufio.NewReader(c)
			_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n")
			for range tc.bytes {
				if _, err := c.Write([]byte("x")); err != nil {
					t.Fatal(err)
				}
				time.Sleep(150 * time.Millisecond)
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, _ := r.ReadString('\n')
			if strings.TrimSpace(line) != tc.wantStatus {
				t.Fatalf("status line %q; want %q", line, tc.wantStatus)
			}
			if tc.wantStatus != "HTTP/1.1 200 OK" && !closedWithin(c, r, 5*time.Second) {
				t.Error("the connection of a stalled body is still open")
			}
		})
	}
}

func TestIdleAndHeaderTimeouts(t *testing.T) {
	const timeout = 400 * time.Millisecond
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	tests := map[string]struct {
		timeout    time.Duration
		send       func(c net.Conn, r *bufio.Reader)
		wantClosed bool
	}{
		"idle keep-alive closed": {timeout, func(c net.Conn, r *bufio.Reader) {
			_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(r, nil)
			if err == nil {
				_ = resp.Body.Close()
			}
		}, true},
		"idle keep-alive kept with timeout 0": {0, func(c net.Conn, r *bufio.Reader) {
			_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(r, nil)
			if err == nil {
				_ = resp.Body.Close()
			}
		}, false},
		"trickled header cut": {timeout, func(c net.Conn, _ *bufio.Reader) {
			for _, b := range []byte("GET / HTTP/1.1\r\nHost: x\r\n") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(timeout / 4)
			}
		}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			addr := serve(t, ok, Options{ClientSocketTimeout: tc.timeout})
			c := dial(t, addr)
			r := bufio.NewReader(c)
			tc.send(c, r)
			if got := closedWithin(c, r, 5*timeout); got != tc.wantClosed {
				t.Errorf("closed within %s = %v; want %v", 5*timeout, got, tc.wantClosed)
			}
		})
	}
}
