package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/host/internal/policy"
)

// listManageableServers streams the driver's nodes to the client as they
// arrive: the host holds one node at a time, whatever the listing's size.
// The status is decided by the first node (or the end), so an error before
// it is a proper 4xx/5xx; a failure after it cuts the connection, so the
// client can never mistake a partial listing for a whole one.
func (s *Server) listManageableServers(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := s.authorize(ctx, policy.ManageableServersGetAll, nil); err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := parseQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	opts, err := listOptions(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	out := bufio.NewWriterSize(w, 64<<10)
	var (
		count   int
		last    string
		started bool
	)
	begin := func() {
		started = true
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(out, `{"manageable_servers": [`)
	}
	enc := json.NewEncoder(out)
	err = s.manage.ListManageable(ctx, opts, func(backend string, n manage.Node) error {
		if !started {
			begin()
		} else if _, err := io.WriteString(out, ", "); err != nil {
			return err
		}
		count++
		last = n.UUID
		if err := enc.Encode(newManageableServerView(backend, n, opts.IncludeUnmanageable)); err != nil {
			return err
		}
		if count == 1 {
			// The first node goes out at once, so a client of a slow
			// driver sees progress; the rest is buffered.
			return flush(w, out)
		}
		return nil
	})
	if err != nil {
		if !started {
			s.writeError(w, r, err)
			return
		}
		if ctx.Err() != nil {
			s.log.Debug("client went away during a listing", "request_id", requestIDFrom(ctx), "nodes_sent", count)
		} else {
			s.log.Error("manageable_servers listing failed mid-stream; cutting the response",
				"request_id", requestIDFrom(ctx), "nodes_sent", count, "error", err)
		}
		panic(http.ErrAbortHandler)
	}
	if !started {
		begin()
	}
	_, _ = io.WriteString(out, "]")
	if opts.Limit > 0 && count == opts.Limit {
		next := s.baseURL(r) + "/v1/manageable_servers?" + nextQuery(q, last).Encode()
		_, _ = io.WriteString(out, `, "manageable_servers_links": [`)
		_ = enc.Encode(link{Href: next, Rel: "next"})
		_, _ = io.WriteString(out, "]")
	}
	_, _ = io.WriteString(out, "}")
	if err := out.Flush(); err != nil {
		s.log.Debug("client went away", "request_id", requestIDFrom(ctx), "error", err)
	}
}

// flush sends what out holds to the client now.
func flush(w http.ResponseWriter, out *bufio.Writer) error {
	if err := out.Flush(); err != nil {
		return err
	}
	if err := http.NewResponseController(w).Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

func listOptions(q url.Values) (manage.ListOptions, error) {
	var opts manage.ListOptions
	var err error
	if opts.Limit, err = queryLimit(q); err != nil {
		return opts, err
	}
	if opts.Marker, err = queryMarker(q); err != nil {
		return opts, err
	}
	if opts.ResourceClass, err = queryString(q, "resource_class"); err != nil {
		return opts, err
	}
	if opts.IncludeUnmanageable, err = queryBool(q, "all"); err != nil {
		return opts, err
	}
	if opts.Backend, err = queryString(q, "backend"); err != nil {
		return opts, err
	}
	return opts, nil
}

// nextQuery keeps the caller's filters and moves the marker.
func nextQuery(q url.Values, marker string) url.Values {
	next := url.Values{}
	for k, v := range q {
		next[k] = v
	}
	next.Set("marker", marker)
	return next
}

// manageRequest is the body of POST /v1/manageable_servers, already
// checked against the spec's schema.
type manageRequest struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Metadata    map[string]string `json:"metadata"`
	NodeUUID    string            `json:"node_uuid"`
	// This project's additions: the owner of the server ("" for the
	// caller's own; the schema refuses an empty id).
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
	// Backend names the backend holding the node ("" finds it).
	Backend string `json:"backend"`
}

// manageServer adopts a node as a server: 201 with the server. With
// ?dry_run=true it makes every check the adoption would make and changes
// nothing: 200 with the plan (dryrun.go), or the error the adoption would
// answer.
func (s *Server) manageServer(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req manageRequest
	dryRun, err := s.readCreate(r, policy.ManageableServersCreate, s.manageBody, &req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	projectID, userID, err := s.owner(ctx, "", req.ProjectID, req.UserID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	adoption := manage.Request{
		Name:        req.Name,
		Description: req.Description,
		Metadata:    req.Metadata,
		NodeUUID:    req.NodeUUID,
		Backend:     req.Backend,
		ProjectID:   projectID,
		UserID:      userID,
		Caller:      s.managerCaller(ctx),
	}
	if dryRun {
		s.planServer(w, r, adoption)
		return
	}
	srv, err := s.manage.Adopt(ctx, adoption)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := s.baseURL(r)
	w.Header().Set("Location", base+"/v1/servers/"+srv.UUID)
	writeJSON(w, http.StatusCreated, newServerView(srv, base, s.isAdmin(ctx)))
}
