package api

import (
	"context"
	"errors"
	"net/http"
	"runtime/debug"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

type ctxKey int

const callerKey ctxKey = iota

// requestIDFrom returns the request's id ("req-<uuid>").
func requestIDFrom(ctx context.Context) string { return requestid.From(ctx) }

// callerFrom returns the authenticated caller.
func callerFrom(ctx context.Context) auth.Caller {
	c, _ := ctx.Value(callerKey).(auth.Caller)
	return c
}

// managerCaller is the caller as the application layer records it (never
// the token).
func (s *Server) managerCaller(ctx context.Context) manage.Caller {
	c := callerFrom(ctx)
	return manage.Caller{
		RequestID: requestIDFrom(ctx), UserID: c.UserID, UserName: c.UserName,
		ProjectID: c.ProjectID, ProjectName: c.ProjectName, Roles: c.Roles, IsAdmin: s.policy.IsAdmin(c),
	}
}

// statusRecorder remembers the status for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection (Flush).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// recoverPanics turns a handler panic into a 500 in the error format and
// a log line with the stack: the process keeps serving.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint,err113 // net/http's sentinel, compared as net/http does
				panic(v) // a deliberately cut stream: let net/http drop the connection
			}
			s.log.Error("handler panic", "request_id", requestIDFrom(r.Context()), "panic", v, "stack", string(debug.Stack()))
			s.writeError(w, r, errors.New("panic in handler"))
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies at maxBodyBytes; readBody turns the
// overflow into 413.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBodyBytes {
			s.writeError(w, r, errorf(http.StatusRequestEntityTooLarge,
				"Request body is %d bytes; the limit is %d.", r.ContentLength, maxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// authenticate finds the caller or answers 401 (503 when the identity
// service cannot be reached).
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := s.auth.Authenticate(r.Context(), r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey, caller)))
	})
}

// authorize enforces a policy rule for the caller against target.
func (s *Server) authorize(ctx context.Context, rule string, target map[string]string) error {
	return s.policy.Authorize(rule, callerFrom(ctx), target)
}
