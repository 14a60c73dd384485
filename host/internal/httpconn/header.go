package httpconn

import (
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/fault"
	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// A request header that does not arrive whole in time (ReadHeaderTimeout,
// see NewServer) makes net/http close the connection, after a text/plain
// "400 Bad Request" when the request line was cut, else without a word.
// A client that began a request gets a 408 in the API's error format
// instead; conn.Read sends it, as it sees the read time out, and drops
// what net/http writes after it. A connection on which the client sent
// nothing of a request (a new one, or one idle between requests) is
// closed without an answer, as before: there is no request to answer.

// headerTimeoutMessage is the 408's faultstring.
const headerTimeoutMessage = "The request header did not arrive in time: the client stopped sending it (client_socket_timeout)."

// trackRequests is http.Server.ConnState: it tells each conn whether a
// request is being served (its header came whole) or the next header is
// awaited (counted from zero). A conn it never saw (served by a server
// without it) answers nothing: a read timing out while a request is
// served (net/http's background read, cut once the handler returns) is
// no header timeout.
func trackRequests(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*conn)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tracked = true
	switch state {
	case http.StateActive:
		c.inRequest = true
	case http.StateIdle:
		c.inRequest, c.header = false, 0
	}
}

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	answer, got := false, 0
	if c.tracked && !c.inRequest {
		c.header += n
		got = c.header
		answer = err != nil && errors.Is(err, os.ErrDeadlineExceeded) && got > 0 && !c.answered
		c.answered = c.answered || answer
	}
	c.mu.Unlock()
	if answer {
		c.answerHeaderTimeout(got)
	}
	return n, err
}

func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	answered := c.answered
	c.mu.Unlock()
	if answered {
		return len(p), nil // net/http's own answer to the cut header
	}
	return c.Conn.Write(p)
}

// answerHeaderTimeout writes the 408, in the API's error format, with a
// request id of its own, as every answer has; got is how much of the
// header came.
func (c *conn) answerHeaderTimeout(got int) {
	id := requestid.New()
	body := fault.Body(http.StatusRequestTimeout, headerTimeoutMessage)
	head := "HTTP/1.1 408 Request Timeout\r\n" +
		"Content-Type: " + fault.ContentType + "\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n" +
		"Connection: close\r\n" +
		http.CanonicalHeaderKey(requestid.Header) + ": " + id + "\r\n\r\n"
	// A client that sends nothing may read nothing either: the answer
	// does not hold the connection longer than this.
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, err := c.Conn.Write(append([]byte(head), body...)) // past Write, which would drop it
	c.log.Debug("a request header did not arrive in time: answered 408", requestid.LogKey, id,
		"remote_addr", c.RemoteAddr().String(), "header_bytes", got, "error", err)
}
