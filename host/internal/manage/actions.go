package manage

import (
	"context"
	"errors"
	"fmt"

	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// Action is one finished adoption or release of a server (the audit
// trail, like Nova's instance actions): who asked (the caller, not the
// server's owner), with which request, when, and how it ended.
type Action = store.Action

// Action results.
const (
	ResultSuccess = store.ResultSuccess
	ResultError   = store.ResultError
)

// ServerActions returns the actions of a server uuid, newest first,
// whether the server is live, released or was never adopted (rolled
// back): ErrServerNotFound when it has none.
func (s *Service) ServerActions(ctx context.Context, serverUUID string) ([]Action, error) {
	out, err := s.store.Actions(ctx, serverUUID)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, &refusal{kind: ErrServerNotFound, msg: fmt.Sprintf("Server %s could not be found.", serverUUID)}
	}
	return out, nil
}

// ServerAction returns the action of a server begun by requestID:
// ErrActionNotFound when there is none.
func (s *Service) ServerAction(ctx context.Context, serverUUID, requestID string) (Action, error) {
	a, err := s.store.ActionByRequest(ctx, serverUUID, requestID)
	if errors.Is(err, store.ErrNotFound) {
		return Action{}, &refusal{kind: ErrActionNotFound,
			msg: fmt.Sprintf("Action %s could not be found for server %s.", requestID, serverUUID)}
	}
	return a, err
}
