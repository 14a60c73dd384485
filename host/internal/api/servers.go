package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/host/internal/policy"
)

// isAdmin decides who sees system_metadata.
func (s *Server) isAdmin(ctx context.Context) bool {
	return s.policy.IsAdmin(callerFrom(ctx))
}

// serverFromPath loads the server named by {uuid}: 404 when the path is
// not a UUID or no such server exists.
func (s *Server) serverFromPath(r *http.Request) (manage.Server, error) {
	id, err := uuidFromPath(r)
	if err != nil {
		return manage.Server{}, err
	}
	return s.manage.GetServer(r.Context(), id)
}

// uuidFromPath is {uuid} in canonical form: 404 when it is not a UUID.
func uuidFromPath(r *http.Request) (string, error) {
	raw := mux.Vars(r)["uuid"]
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		if short, cut := clip(raw); cut {
			raw = short + "..." // a 1 MB path does not come back whole
		}
		return "", errorf(http.StatusNotFound, "Server %s could not be found.", raw)
	}
	return id.String(), nil
}

// listedServers reads the servers the caller may list, honouring limit,
// marker and all_tenants.
func (s *Server) listedServers(r *http.Request) ([]manage.Server, error) {
	ctx := r.Context()
	caller := callerFrom(ctx)
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	opts := manage.ListServersOptions{ProjectID: caller.ProjectID}
	allTenants, err := queryBool(q, "all_tenants")
	if err != nil {
		return nil, err
	}
	switch {
	case allTenants:
		if err := s.authorize(ctx, policy.ServerGetAllTenants, nil); err != nil {
			return nil, err
		}
		opts.ProjectID = ""
	case opts.ProjectID == "" && !s.isAdmin(ctx):
		// A caller without a project (http_basic) owns no servers; only an
		// admin's empty project means "every project".
		return []manage.Server{}, nil
	default:
		// Listing one's own project: the target is the caller's project,
		// as Nova and Mogan pass it.
		if err := s.authorize(ctx, policy.ServerGetAll, map[string]string{"project_id": caller.ProjectID}); err != nil {
			return nil, err
		}
	}
	if opts.Limit, err = queryLimit(q); err != nil {
		return nil, err
	}
	if opts.Marker, err = queryMarker(q); err != nil {
		return nil, err
	}
	return s.manage.ListServers(ctx, opts)
}

func (s *Server) listServers(w http.ResponseWriter, r *http.Request) {
	servers, err := s.listedServers(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := s.baseURL(r)
	views := make([]serverBriefView, len(servers))
	for i, srv := range servers {
		views[i] = newServerBriefView(srv, base)
	}
	writeJSON(w, http.StatusOK, map[string]any{"servers": views})
}

func (s *Server) listServersDetail(w http.ResponseWriter, r *http.Request) {
	servers, err := s.listedServers(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base, admin := s.baseURL(r), s.isAdmin(r.Context())
	views := make([]serverView, len(servers))
	for i, srv := range servers {
		views[i] = newServerView(srv, base, admin)
	}
	writeJSON(w, http.StatusOK, map[string]any{"servers": views})
}

func (s *Server) showServer(w http.ResponseWriter, r *http.Request) {
	srv, err := s.serverFromPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.authorize(r.Context(), policy.ServerGet, map[string]string{"project_id": srv.ProjectID}); err != nil {
		s.writeError(w, r, s.hideOthers(r.Context(), srv, err))
		return
	}
	writeJSON(w, http.StatusOK, newServerView(srv, s.baseURL(r), s.isAdmin(r.Context())))
}

// unmanageServer releases the node (the driver forgets the association)
// and removes the server record; the machine keeps running untouched.
// The server is read first, so that a tenant refused by the policy
// (admin only by default) learns nothing of another project's server:
// 404 for those, 403 for its own project's.
func (s *Server) unmanageServer(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	srv, err := s.serverFromPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.authorize(ctx, policy.ServerUnmanage, map[string]string{"project_id": srv.ProjectID, "user_id": srv.UserID}); err != nil {
		s.writeError(w, r, s.hideOthers(ctx, srv, err))
		return
	}
	if err := s.manage.Unmanage(ctx, s.managerCaller(ctx), srv.UUID); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
