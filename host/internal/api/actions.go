package api

import (
	"context"
	"errors"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/host/internal/policy"
)

// The audit trail, like Nova's instance actions: GET
// /v1/servers/{uuid}/actions and /v1/servers/{uuid}/actions/{request_id}.

// actionView is one action. user_id and project_id are the caller's.
type actionView struct {
	Action     string  `json:"action"`
	ServerUUID string  `json:"server_uuid"`
	RequestID  string  `json:"request_id"`
	UserID     string  `json:"user_id"`
	ProjectID  string  `json:"project_id"`
	StartTime  *string `json:"start_time"`
	FinishTime *string `json:"finish_time"`
	Result     string  `json:"result"`
	Message    *string `json:"message"`
}

func newActionView(a manage.Action) actionView {
	return actionView{
		Action: a.Action, ServerUUID: a.ServerUUID, RequestID: a.RequestID, UserID: a.UserID, ProjectID: a.ProjectID,
		StartTime: timestamp(&a.StartTime), FinishTime: timestamp(&a.FinishTime), Result: a.Result,
		Message: nullable(a.Message),
	}
}

func (s *Server) listServerActions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, live, err := s.authorizeActions(ctx, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	actions, err := s.manage.ServerActions(ctx, id)
	if errors.Is(err, manage.ErrServerNotFound) && live {
		// A live server adopted before the audit trail existed.
		actions, err = []manage.Action{}, nil
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	views := make([]actionView, len(actions))
	for i, a := range actions {
		views[i] = newActionView(a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"actions": views})
}

func (s *Server) showServerAction(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, _, err := s.authorizeActions(ctx, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	requestID := mux.Vars(r)["request_id"]
	if !plausibleRequestID(requestID) {
		s.writeError(w, r, errorf(http.StatusNotFound, "Action could not be found for server %s.", id))
		return
	}
	a, err := s.manage.ServerAction(ctx, id, requestID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"action": newActionView(a)})
}

// authorizeActions decides whether the caller may read the actions of the
// server uuid in the path, and whether that server is live. A live server
// is checked against its project (admin or owner by default); a released
// or never-adopted uuid has no project, so only an admin passes. A refusal
// is told as show tells it (hideOthers): a non-admin refused for a server
// that is not its project's — a caller without a project owns none —, or
// not live, gets the 404 of an unknown uuid, so that the uuid's existence
// is not told.
func (s *Server) authorizeActions(ctx context.Context, r *http.Request) (id string, live bool, err error) {
	if id, err = uuidFromPath(r, "Server"); err != nil {
		return "", false, err
	}
	srv, err := s.manage.GetServer(ctx, id)
	switch {
	case err == nil:
		live = true
	case errors.Is(err, manage.ErrServerNotFound):
		srv = manage.Server{UUID: id} // of no project
	default:
		return "", false, err
	}
	target := map[string]string{}
	if live {
		target["project_id"] = srv.ProjectID
	}
	if err := s.authorize(ctx, policy.ServerActionsGet, target); err != nil {
		return "", false, s.hideOthers(ctx, srv, err)
	}
	return id, live, nil
}

// plausibleRequestID says whether s could be a request id: printable,
// valid UTF-8, bounded. Anything else names no action (and never reaches
// the database, which refuses invalid UTF-8 and NUL).
func plausibleRequestID(s string) bool {
	if s == "" || len(s) > 255 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
