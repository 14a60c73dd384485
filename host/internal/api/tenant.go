package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/mogan-manage/mogan-manage/host/internal/auth"
	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/host/internal/policy"
)

// Adoption into a tenant's project, and what a tenant sees of servers.

// owner returns who the adopted server belongs to: the body's project_id
// and user_id (wantProject, wantUser; at prefix in the body, "" or
// "server."), each the caller's own when absent. With Keystone (the
// keystone Authenticator is also the auth.Directory) an id other than the
// caller's own must exist there: 400 naming it when it does not, 503 when
// Keystone cannot say. Under http_basic and noauth there is no directory:
// the ids are taken as they are.
func (s *Server) owner(ctx context.Context, prefix, wantProject, wantUser string) (projectID, userID string, err error) {
	caller := callerFrom(ctx)
	projectID, userID = caller.ProjectID, caller.UserID
	if wantProject != "" {
		projectID = wantProject
	}
	if wantUser != "" {
		userID = wantUser
	}
	dir, ok := s.auth.(auth.Directory)
	if !ok {
		return projectID, userID, nil
	}
	checks := []struct {
		field, id, own string
		exists         func(context.Context, string) (bool, error)
		what           string
	}{
		{prefix + "project_id", wantProject, caller.ProjectID, dir.ProjectExists, "project"},
		{prefix + "user_id", wantUser, caller.UserID, dir.UserExists, "user"},
	}
	for _, c := range checks {
		if c.id == "" || c.id == c.own {
			continue // absent, or known from the caller's token
		}
		found, err := c.exists(ctx, c.id)
		if err != nil {
			return "", "", fmt.Errorf("checking %s %s: %w", c.field, c.id, err)
		}
		if !found {
			return "", "", errorf(http.StatusBadRequest,
				"Invalid input for field/attribute %s. Value: %q. No such %s in Keystone.", c.field, c.id, c.what)
		}
	}
	return projectID, userID, nil
}

// hideOthers turns a policy refusal about srv into a 404 when the caller
// is not an admin and srv is not its project's: as Nova, the API does not
// tell a tenant that another project's server exists. A member of the
// server's own project keeps the 403.
func (s *Server) hideOthers(ctx context.Context, srv manage.Server, err error) error {
	if !errors.Is(err, policy.ErrForbidden) || s.isAdmin(ctx) {
		return err
	}
	if own := callerFrom(ctx).ProjectID; own == "" || own != srv.ProjectID {
		return errorf(http.StatusNotFound, "Server %s could not be found.", srv.UUID)
	}
	return err
}
