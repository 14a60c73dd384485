package httpconn

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// TestHeaderTimeoutAnswers408JSON (issue 15, finding 8): a client that
// began a request but did not send its whole header in time gets a 408
// in the API's error format (Content-Type application/json, the fault in
// error_message, a request id), then the connection is closed; net/http
// answered a text/plain 400 (or nothing, depending on where the header
// stopped). A connection on which the client sent nothing is closed
// without an answer, as before: there is no request to answer.
func TestHeaderTimeoutAnswers408JSON(t *testing.T) {
	const timeout = 300 * time.Millisecond
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	tests := map[string]struct {
		send     func(c net.Conn, r *bufio.Reader)
		want408  bool
		wantResp int // responses read before the 408 (or the close)
	}{
		"nothing sent": {send: func(net.Conn, *bufio.Reader) {}},
		"part of the request line": {send: func(c net.Conn, _ *bufio.Reader) {
			_, _ = io.WriteString(c, "GE")
		}, want408: true},
		"the request line only": {send: func(c net.Conn, _ *bufio.Reader) {
			_, _ = io.WriteString(c, "GET / HTTP/1.1\r\n")
		}, want408: true},
		"a header without its end": {send: func(c net.Conn, _ *bufio.Reader) {
			_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-A: b")
		}, want408: true},
		"a trickled header": {send: func(c net.Conn, _ *bufio.Reader) {
			for _, b := range []byte("GET / HTTP/1.1\r\nHost: x\r\n") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(timeout / 4)
			}
		}, want408: true},
		"idle after a response": {send: func(c net.Conn, _ *bufio.Reader) {
			_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		}, wantResp: 1},
		"the second request's header stalls": {send: func(c net.Conn, _ *bufio.Reader) {
			_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			time.Sleep(timeout / 3)
			_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHo")
		}, want408: true, wantResp: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			addr := serve(t, ok, Options{ClientSocketTimeout: timeout})
			c := dial(t, addr)
			r := bufio.NewReader(c)
			tc.send(c, r)
			_ = c.SetReadDeadline(time.Now().Add(10 * timeout))
			for range tc.wantResp {
				resp, err := http.ReadResponse(r, nil)
				if err != nil {
					t.Fatalf("reading the answer to the whole request: %v", err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("the whole request: %s", resp.Status)
				}
			}
			if !tc.want408 {
				rest, err := io.ReadAll(r)
				if len(rest) != 0 || err != nil {
					t.Fatalf("a connection with no request pending answered %q (%v); want a close without an answer", rest, err)
				}
				return
			}
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatalf("no answer to the stalled header: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusRequestTimeout {
				t.Errorf("status %q; want 408 Request Timeout (%q)", resp.Status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q; want application/json", ct)
			}
			if id := resp.Header.Get(requestid.Header); !requestid.Valid(id) {
				t.Errorf("%s = %q; want req-<uuid>", requestid.Header, id)
			}
			if !resp.Close {
				t.Error("the 408 does not say Connection: close")
			}
			var outer struct {
				ErrorMessage string `json:"error_message"`
			}
			var inner struct {
				FaultCode   string  `json:"faultcode"`
				FaultString string  `json:"faultstring"`
				DebugInfo   *string `json:"debuginfo"`
			}
			if err := json.Unmarshal(body, &outer); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if err := json.Unmarshal([]byte(outer.ErrorMessage), &inner); err != nil {
				t.Fatalf("error_message %q: %v", outer.ErrorMessage, err)
			}
			if inner.FaultCode != "Client" || !strings.Contains(inner.FaultString, "request header") || inner.DebugInfo != nil {
				t.Errorf("fault %+v", inner)
			}
			// Nothing after it (net/http's own 400 was dropped), and closed.
			if rest, err := io.ReadAll(r); len(rest) != 0 || err != nil {
				t.Errorf("after the 408: %q (%v); want the connection closed", rest, err)
			}
		})
	}
}

// TestHeaderTimeoutNeedsTheServersStates: on a listener from Listen served
// by an http.Server without NewServer's ConnState, a conn cannot tell a
// header from a request being served (net/http's background read, cut
// when the handler returns, times out too): it answers nothing itself.
func TestHeaderTimeoutNeedsTheServersStates(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }),
		ReadHeaderTimeout: 300 * time.Millisecond,
	}
	go func() { _ = srv.Serve(Listen(inner, Options{})) }()
	t.Cleanup(func() { _ = srv.Close() })
	c := dial(t, inner.Addr().String())
	r := bufio.NewReader(c)
	for range 2 {
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %s; want 200", resp.Status)
		}
	}
}
