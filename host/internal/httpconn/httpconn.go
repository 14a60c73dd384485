// Package httpconn bounds what one client can hold of the API server:
// how long an idle or stalled connection lives ([DEFAULT]
// client_socket_timeout, oslo.service's option) and how many connections
// are served at once ([api] max_connections).
//
// The timeout is never a write deadline: a client that reads a long
// streamed listing slowly keeps its connection for as long as it keeps
// reading. It applies to what the server waits for from the client:
//
//   - between requests on a keep-alive connection: closed after the
//     timeout (http.Server.IdleTimeout);
//   - the request header: it must arrive whole within the timeout, at most
//     HeaderTimeout, from its first byte (or from the connection's
//     opening); HeaderTimeout also applies when the timeout is 0. A client
//     that began a header and did not finish it gets a 408 in the API's
//     error format (header.go);
//   - the request body: each read waits at most the timeout for the
//     client's next bytes, so a body sent at any steady pace arrives, and a
//     client that stops sending for longer is cut (the handler's read
//     fails with os.ErrDeadlineExceeded; the connection is then closed).
//     A steady trickle is bounded by the body size limit and
//     max_connections, not by time.
package httpconn

import (
	"io"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
)

// HeaderTimeout caps how long a request header may take to arrive, whatever
// client_socket_timeout is: a header is a few hundred bytes sent at once,
// so a client still sending one after 10 s is holding the connection.
const HeaderTimeout = 10 * time.Second

// Options are the operator's settings.
type Options struct {
	// ClientSocketTimeout is [DEFAULT] client_socket_timeout; 0 = none.
	ClientSocketTimeout time.Duration
	// MaxConnections is [api] max_connections; 0 = no bound.
	MaxConnections int
	Logger         hclog.Logger
}

// NewServer is an http.Server for handler with the timeouts of o. The
// caller sets BaseContext and serves on a listener from Listen.
func NewServer(handler http.Handler, o Options) *http.Server {
	log := o.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	header := HeaderTimeout
	if o.ClientSocketTimeout > 0 && o.ClientSocketTimeout < header {
		header = o.ClientSocketTimeout
	}
	idle := o.ClientSocketTimeout
	if idle <= 0 {
		idle = -1 // net/http: negative is "no idle timeout"
	}
	return &http.Server{
		Handler:           StallTimeout(handler, o.ClientSocketTimeout),
		ReadHeaderTimeout: header,
		IdleTimeout:       idle,
		// On a listener from Listen, a header that stops arriving is
		// answered 408 in the API's error format (header.go).
		ConnState: trackRequests,
		// No ReadTimeout (it would cut slow uploads by total time) and no
		// WriteTimeout (it would cut a slow reader of a long listing).
		// What net/http logs itself (a handler's superfluous WriteHeader,
		// a panic that got past the API's recovery) is worth a warning.
		ErrorLog: log.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Warn}),
	}
}

// StallTimeout makes every read of a request body wait at most d for the
// client's next bytes (the deadline moves forward on each read); d <= 0
// returns next unchanged.
func StallTimeout(next http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &stallReader{body: r.Body, rc: http.NewResponseController(w), timeout: d}
		}
		next.ServeHTTP(w, r)
	})
}

type stallReader struct {
	body    io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	// done is set once the body ended or failed. From then on the
	// deadline is never touched again: at the body's end net/http starts
	// its background read of the connection (to notice a client that
	// goes away) and clears the deadline; setting one again would time
	// that read out and cancel the request's context mid-response.
	done bool
}

func (s *stallReader) Read(p []byte) (int, error) {
	if !s.done && len(p) > 0 {
		if err := s.rc.SetReadDeadline(time.Now().Add(s.timeout)); err != nil {
			s.done = true // not a net/http connection (a test recorder): nothing to bound
		}
	}
	n, err := s.body.Read(p)
	if err != nil {
		s.done = true
	}
	return n, err
}

func (s *stallReader) Close() error { return s.body.Close() }
