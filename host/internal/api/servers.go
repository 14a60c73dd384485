package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"

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
	id, err := uuidFromPath(r, "Server")
	if err != nil {
		return manage.Server{}, err
	}
	return s.manage.GetServer(r.Context(), id)
}

// uuidFromPath is {uuid} in canonical form: 404 when it is not a UUID,
// in the words of a missing one (noun: "Server", "Migration").
func uuidFromPath(r *http.Request, noun string) (string, error) {
	raw := mux.Vars(r)["uuid"]
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		if short, cut := clip(raw); cut {
			raw = short + "..." // a 1 MB path does not come back whole
		}
		return "", errorf(http.StatusNotFound, "%s %s could not be found.", noun, raw)
	}
	return id.String(), nil
}

// listedServers reads the servers the caller may list, honouring limit,
// marker and all_tenants, and refusing an order it does not serve.
func (s *Server) listedServers(r *http.Request, q url.Values) ([]manage.Server, error) {
	ctx := r.Context()
	caller := callerFrom(ctx)
	if err := checkServerOrder(q); err != nil {
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

// checkServerOrder reads upstream's sort_key and sort_dir: servers are
// listed oldest first (created_at, then uuid), which is what upstream's
// default, id ascending, gives; any other order is a 400 rather than
// ignored.
func checkServerOrder(q url.Values) error {
	key, err := single(q, "sort_key")
	if err != nil {
		return err
	}
	if key != "" && key != "id" && key != "created_at" {
		return errorf(http.StatusBadRequest, "Invalid value for sort_key: %s. Servers are listed by creation only: id or created_at.", quoted(key))
	}
	dir, err := single(q, "sort_dir")
	if err != nil {
		return err
	}
	if dir != "" && !strings.EqualFold(dir, "asc") {
		return errorf(http.StatusBadRequest, "Invalid value for sort_dir: %s. Servers are listed oldest first only: asc.", quoted(dir))
	}
	return nil
}

// listServers answers the brief list, or with ?fields= the fields named.
func (s *Server) listServers(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	fields, err := queryFields(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	servers, err := s.listedServers(r, q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base, admin := s.baseURL(r), s.isAdmin(r.Context())
	views := make([]any, len(servers))
	for i, srv := range servers {
		if fields == nil {
			views[i] = newServerBriefView(srv, base)
		} else if views[i], err = selectFields(newServerView(srv, base, admin), fields); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"servers": views})
}

func (s *Server) listServersDetail(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	servers, err := s.listedServers(r, q)
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

// showServer answers the server, or with ?fields= the fields named.
func (s *Server) showServer(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	fields, err := queryFields(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	srv, err := s.serverFromPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.authorize(r.Context(), policy.ServerGet, map[string]string{"project_id": srv.ProjectID}); err != nil {
		s.writeError(w, r, s.hideOthers(r.Context(), srv, err))
		return
	}
	view := newServerView(srv, s.baseURL(r), s.isAdmin(r.Context()))
	if fields == nil {
		writeJSON(w, http.StatusOK, view)
		return
	}
	picked, err := selectFields(view, fields)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, picked)
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
