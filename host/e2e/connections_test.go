package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// connHost starts mogan-api on the test driver (nodes as control says)
// with [DEFAULT] client_socket_timeout and [api] max_connections set.
func connHost(t *testing.T, timeout, maxConns int, control string) *host {
	t.Helper()
	path := filepath.Join(t.TempDir(), "control.json")
	if err := os.WriteFile(path, []byte(control), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := hostConfig(t, "", "[test]\ncontrol_file = "+path+"\n")
	conf = strings.Replace(conf, "[DEFAULT]\n", fmt.Sprintf("[DEFAULT]\nclient_socket_timeout = %d\n", timeout), 1)
	conf = strings.Replace(conf, "[api]\n", fmt.Sprintf("[api]\nmax_connections = %d\n", maxConns), 1)
	conf = strings.Replace(conf, "[driver]\n", "[driver]\nname = test\n", 1)
	return startHost(t, conf)
}

// rawConn is one TCP connection to the host, spoken to by hand.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func dialHost(t *testing.T, h *host) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(h.URL, "http://"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{Conn: c, r: bufio.NewReader(c)}
}

// get sends a keep-alive GET and reads its response whole (status, body).
func (c *rawConn) get(t *testing.T, path string, within time.Duration) (int, error) {
	t.Helper()
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path); err != nil {
		return 0, err
	}
	return c.response(within)
}

func (c *rawConn) response(within time.Duration) (int, error) {
	_ = c.SetReadDeadline(time.Now().Add(within))
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// closedWithin reports whether the host closes the connection within limit
// (EOF or reset), as opposed to the limit passing with it open.
func (c *rawConn) closedWithin(limit time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, c.r)
	var ne net.Error
	return !errors.As(err, &ne) || !ne.Timeout()
}

// TestClientSocketTimeoutClosesIdleAndStalledClients is issue 8 row 6 with
// client_socket_timeout = 2: an idle keep-alive connection, a header
// trickled slower than that and a body that stops arriving are closed;
// a body sent slowly but steadily gets through.
func TestClientSocketTimeoutClosesIdleAndStalledClients(t *testing.T) {
	h := connHost(t, 2, 1000, `{}`)

	t.Run("idle keep-alive", func(t *testing.T) {
		c := dialHost(t, h)
		for range 2 { // the connection is kept alive between requests
			if code, err := c.get(t, "/healthz", 10*time.Second); code != http.StatusOK {
				t.Fatalf("GET /healthz: %d, %v", code, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
		if !c.closedWithin(15 * time.Second) {
			t.Error("an idle keep-alive connection is still open 15 s after client_socket_timeout = 2")
		}
	})

	t.Run("trickled header", func(t *testing.T) {
		c := dialHost(t, h)
		done := make(chan struct{})
		go func() { // 1 byte every 0.5 s: the header would take 20 s
			defer close(done)
			for _, b := range []byte("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX: y\r\n\r\n") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(500 * time.Millisecond)
			}
		}()
		defer func() { _ = c.Close(); <-done }()
		// 2 s and a generous margin, shorter than the fixed 10 s limit on
		// a header's arrival.
		_ = c.SetReadDeadline(time.Now().Add(8 * time.Second))
		got, err := io.ReadAll(c.r)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("a header trickled over 20 s is still being read after 8 s")
		}
		if strings.Contains(string(got), "200 OK") {
			t.Errorf("a trickled header was served: %q", got)
		}
		// Issue 15, finding 8: answered 408 in Mogan's error format, not
		// net/http's text/plain 400 (or nothing).
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(got))), nil)
		if err != nil {
			t.Fatalf("no answer to a trickled header: %q (%v)", got, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout || resp.Header.Get("Content-Type") != "application/json" ||
			!strings.Contains(string(b), `"error_message"`) || resp.Header.Get("X-Openstack-Request-Id") == "" {
			t.Errorf("trickled header: %q; want 408 in Mogan's error format", got)
		}
	})

	body := `{"name": "slow", "node_uuid": "00000000-0000-4000-8000-000000000000"}`
	t.Run("stalled body", func(t *testing.T) {
		c := dialHost(t, h)
		_, err := fmt.Fprintf(c, "POST /v1/manageable_servers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			len(body), body[:10])
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
		resp, err := http.ReadResponse(c.r, nil)
		if err != nil {
			t.Fatalf("no answer 15 s into a body stalled with client_socket_timeout = 2: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), `"error_message"`) {
			t.Errorf("stalled body: %d %s; want 408 in Mogan's error format", resp.StatusCode, b)
		}
		if !c.closedWithin(10 * time.Second) {
			t.Error("the connection of a stalled body is still open after the 408")
		}
	})

	t.Run("slow steady body", func(t *testing.T) {
		// One chunk every 0.5 s, 4 s in all: twice the timeout, but the
		// client never falls silent for long.
		c := dialHost(t, h)
		if _, err := fmt.Fprintf(c, "POST /v1/manageable_servers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body)); err != nil {
			t.Fatal(err)
		}
		step := (len(body) + 7) / 8
		for i := 0; i < len(body); i += step {
			time.Sleep(500 * time.Millisecond)
			if _, err := io.WriteString(c, body[i:min(i+step, len(body))]); err != nil {
				t.Fatalf("the host cut a steady body: %v", err)
			}
		}
		if code, err := c.response(30 * time.Second); code != http.StatusCreated {
			t.Fatalf("slow steady body: %d, %v; want 201", code, err)
		}
	})
}

// TestSlowReaderOfStreamedListingCompletes: client_socket_timeout is
// never a write deadline. A client reads a large listing slowly, for
// several times the timeout, through a small receive buffer (so the
// host's writes block), and still gets every node.
func TestSlowReaderOfStreamedListingCompletes(t *testing.T) {
	// About 12 MB of JSON: more than the kernel buffers between host and
	// client (a few MB on loopback), so the host's writes block for
	// seconds.
	const nodes = 20000
	h := connHost(t, 2, 1000, fmt.Sprintf(`{"count": %d}`, nodes))
	d := net.Dialer{Timeout: 10 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10) })
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.DialContext(t.Context(), "tcp", strings.TrimPrefix(h.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /v1/manageable_servers HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Minute))
	// 8 KiB every 4 ms (at most 2 MB/s): the listing takes several
	// seconds, the last of them with the host blocked in writing.
	slow := &pacedReader{r: conn, chunk: 8 << 10, every: 4 * time.Millisecond}
	resp, err := http.ReadResponse(bufio.NewReaderSize(slow, 8<<10), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Servers []struct {
			UUID string `json:"uuid"`
		} `json:"manageable_servers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("listing cut after %s: %v", time.Since(start), err)
	}
	took := time.Since(start)
	t.Logf("%d nodes read in %s", len(list.Servers), took)
	if want := nodes * 9 / 10; len(list.Servers) != want {
		t.Errorf("a slow reader got %d nodes; want %d", len(list.Servers), want)
	}
	if took < 3*time.Second {
		t.Errorf("the listing took %s, not longer than client_socket_timeout = 2 s: the test proves nothing; read slower", took)
	}
}

// pacedReader reads at most chunk bytes per call, one call per interval.
type pacedReader struct {
	r     io.Reader
	chunk int
	every time.Duration
}

func (p *pacedReader) Read(b []byte) (int, error) {
	time.Sleep(p.every)
	return p.r.Read(b[:min(len(b), p.chunk)])
}

// TestClientSocketTimeoutZeroKeepsIdleConnections: 0 means no timeout; an
// idle keep-alive connection outlives what the 2 s setting would allow.
func TestClientSocketTimeoutZeroKeepsIdleConnections(t *testing.T) {
	h := connHost(t, 0, 1000, `{}`)
	c := dialHost(t, h)
	if code, err := c.get(t, "/healthz", 10*time.Second); code != http.StatusOK {
		t.Fatalf("GET /healthz: %d, %v", code, err)
	}
	if c.closedWithin(5 * time.Second) {
		t.Fatal("client_socket_timeout = 0 closed an idle keep-alive connection within 5 s")
	}
	if code, err := c.get(t, "/healthz", 10*time.Second); code != http.StatusOK {
		t.Fatalf("GET /healthz on the kept connection: %d, %v", code, err)
	}
}

// TestMaxConnectionsBoundsConnections: with max_connections = 3 and three
// idle keep-alive connections open, a fourth client waits (in the
// kernel's backlog, no file descriptor of the host's) and is served as
// soon as one of the three closes.
func TestMaxConnectionsBoundsConnections(t *testing.T) {
	h := connHost(t, 60, 3, `{}`)
	var idle []*rawConn
	for range 3 {
		c := dialHost(t, h)
		if code, err := c.get(t, "/healthz", 10*time.Second); code != http.StatusOK {
			t.Fatalf("GET /healthz: %d, %v", code, err)
		}
		idle = append(idle, c)
	}
	fourth := dialHost(t, h)
	if _, err := fmt.Fprint(fourth, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if code, err := fourth.response(2 * time.Second); err == nil {
		t.Fatalf("a fourth connection was served (%d) with max_connections = 3 and three open", code)
	}
	// The read timed out mid-wait; start reading afresh.
	fourth.r = bufio.NewReader(fourth.Conn)
	_ = idle[0].Close()
	if code, err := fourth.response(15 * time.Second); code != http.StatusOK {
		t.Fatalf("the waiting connection was not served once one closed: %d, %v", code, err)
	}
	waitLog(t, h, "[WARN]  mogan-api.http: [api] max_connections reached", 10*time.Second)
}

// TestAcceptOutOfFileDescriptorsIsLoggedAndRecovers: with max_connections
// above what the host's open-file limit allows, accept fails with EMFILE:
// the host says so at WARN, keeps trying, and serves again once clients
// go away.
func TestAcceptOutOfFileDescriptorsIsLoggedAndRecovers(t *testing.T) {
	h := connHost(t, 60, 0, `{}`)
	open, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", h.pid()))
	if err != nil {
		t.Fatal(err)
	}
	limit := uint64(len(open) + 8)
	setNofile(t, h.pid(), limit)
	var conns []*rawConn
	for range 20 {
		conns = append(conns, dialHost(t, h)) // the kernel completes them; the host cannot accept them all
	}
	waitLog(t, h, "[WARN]  mogan-api.http: cannot accept a connection: out of resources", 15*time.Second)
	for _, c := range conns {
		_ = c.Close()
	}
	// The host forgets the clients that went away (each accepted one reads
	// EOF) and accepts again.
	c := dialHost(t, h)
	if code, err := c.get(t, "/healthz", 30*time.Second); code != http.StatusOK {
		t.Fatalf("GET /healthz after the clients left: %d, %v", code, err)
	}
	waitLog(t, h, "accepting connections again", 10*time.Second)
}

// waitLog waits for the host's log (copied from its stderr pipe, so a
// little behind) to contain want.
func waitLog(t *testing.T, h *host, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(h.logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the host's log does not say %q within %s", want, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// setNofile lowers pid's open-file limit (soft and hard) with prlimit(2).
func setNofile(t *testing.T, pid int, n uint64) {
	t.Helper()
	lim := syscall.Rlimit{Cur: n, Max: n}
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_NOFILE,
		uintptr(unsafe.Pointer(&lim)), 0, 0, 0); errno != 0 {
		t.Fatalf("prlimit(%d, RLIMIT_NOFILE, %d): %v", pid, n, errno)
	}
}
