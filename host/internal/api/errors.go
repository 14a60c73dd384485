package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/mogan-manage/mogan-manage/host/internal/errkind"
	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// httpError is an error a handler decided the status of.
type httpError struct {
	status  int
	message string
}

func (e *httpError) Error() string { return e.message }

func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, message: fmt.Sprintf(format, args...)}
}

// statusOf returns the HTTP status for err: a handler's own, else its
// kind's (errkind's table: auth's, policy's, the application layer's and
// the driver's, whose kinds cross gRPC as the SDK's), else 500.
func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	return errkind.Of(err).Status
}

// writeError answers err in Mogan's error format. A 500 is a bug: its
// details go to the log, not to the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	// Every package redacts the URLs it quotes; this is the last line
	// before a caller sees the text, for one that did not.
	message := osclient.RedactText(err.Error())
	log := s.log.With("request_id", requestIDFrom(r.Context()))
	switch {
	case status == http.StatusInternalServerError:
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		message = "An internal error occurred; the request id is " + requestIDFrom(r.Context())
	case status >= 500 && status != http.StatusNotImplemented:
		// 501 is a driver's normal answer, not the host failing.
		log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
	}
	if wait, ok := manage.RetryAfter(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
	}
	if status == http.StatusUnauthorized {
		if c := s.auth.Challenge(); c != "" {
			w.Header().Set("WWW-Authenticate", c)
		}
	}
	writeFault(w, status, message)
}
