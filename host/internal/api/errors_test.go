package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// TestWriteErrorByKind: the status, Retry-After and message a client gets
// for each kind the workflow returns, including a driver's kind as it
// comes back through gRPC (a *driver.Error of that kind).
func TestWriteErrorByKind(t *testing.T) {
	tests := map[string]struct {
		err        error
		status     int
		retryAfter string
		messageHas string
	}{
		"taken over":      {fmt.Errorf("adoption of node n was %w", manage.ErrTakenOver), http.StatusConflict, "", "taken over by another replica"},
		"database lost":   {fmt.Errorf("claim node n: %w", manage.ErrStoreUnavailable), http.StatusServiceUnavailable, "5", "the database is unavailable"},
		"not manageable":  {&driver.Error{Kind: driver.ErrNotManageable, Message: "node n cannot be managed: maintenance"}, http.StatusConflict, "", "maintenance"},
		"not found":       {&driver.Error{Kind: driver.ErrNodeNotFound, Message: "node n"}, http.StatusNotFound, "", "node n"},
		"not implemented": {&driver.Error{Kind: driver.ErrNotImplemented, Message: "Manage"}, http.StatusNotImplemented, "", "Manage"},
		"invalid":         {&driver.Error{Kind: driver.ErrInvalidArgument, Message: "bad"}, http.StatusBadRequest, "", "bad"},
		"unavailable":     {&driver.Error{Kind: driver.ErrUnavailable, Message: "Ironic is down"}, http.StatusServiceUnavailable, "", "Ironic is down"},
		"deadline":        {&driver.Error{Kind: context.DeadlineExceeded, Message: "slow"}, http.StatusGatewayTimeout, "", "slow"},
		"handler's own":   {errorf(http.StatusRequestTimeout, "too slow"), http.StatusRequestTimeout, "", "too slow"},
		"a bug":           {errors.New("boom"), http.StatusInternalServerError, "", "internal error"},
	}
	s := &Server{log: hclog.NewNullLogger()}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.writeError(w, httptest.NewRequest(http.MethodPost, "/v1/manageable_servers", nil), tc.err)
			if w.Code != tc.status {
				t.Errorf("status = %d; want %d", w.Code, tc.status)
			}
			if got := w.Header().Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q; want %q", got, tc.retryAfter)
			}
			if !strings.Contains(w.Body.String(), tc.messageHas) {
				t.Errorf("body %s does not say %q", w.Body, tc.messageHas)
			}
		})
	}
}
