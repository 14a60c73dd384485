package keystone

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// AddUser creates a user of the Default domain with role on project,
// creating the project when Keystone does not know it yet (so a test can
// put several users in one project), and returns the user with its ids
// and password. The role must exist ("admin", "member", "reader" and
// "service" do).
func (k *Keystone) AddUser(ctx context.Context, name, project, role string) (User, error) {
	token, err := k.AdminToken(ctx)
	if err != nil {
		return User{}, err
	}
	u := User{Name: name, Password: randomPassword(), Project: project, Role: role}
	var roles struct {
		Roles []struct{ ID string } `json:"roles"`
	}
	if err := k.Request(ctx, token, http.MethodGet, "/roles?name="+url.QueryEscape(role), nil, &roles); err != nil {
		return User{}, err
	}
	if len(roles.Roles) != 1 {
		return User{}, fmt.Errorf("keystone: role %q: %d roles by that name", role, len(roles.Roles))
	}
	if u.ProjectID, err = k.ensureProject(ctx, token, project); err != nil {
		return User{}, err
	}
	var user struct{ User struct{ ID string } }
	body := map[string]any{"user": map[string]any{
		"name": name, "password": u.Password, "domain_id": "default", "default_project_id": u.ProjectID,
	}}
	if err := k.Request(ctx, token, http.MethodPost, "/users", body, &user); err != nil {
		return User{}, err
	}
	u.ID = user.User.ID
	path := fmt.Sprintf("/projects/%s/users/%s/roles/%s", u.ProjectID, u.ID, roles.Roles[0].ID)
	if err := k.Request(ctx, token, http.MethodPut, path, nil, nil); err != nil {
		return User{}, err
	}
	return u, nil
}

// AddProject creates a project of the Default domain and returns its id.
func (k *Keystone) AddProject(ctx context.Context, name string) (string, error) {
	token, err := k.AdminToken(ctx)
	if err != nil {
		return "", err
	}
	return k.ensureProject(ctx, token, name)
}

// ensureProject returns the id of project name, creating it if needed.
func (k *Keystone) ensureProject(ctx context.Context, token, name string) (string, error) {
	var found struct {
		Projects []struct{ ID string } `json:"projects"`
	}
	if err := k.Request(ctx, token, http.MethodGet, "/projects?domain_id=default&name="+url.QueryEscape(name), nil, &found); err != nil {
		return "", err
	}
	if len(found.Projects) > 0 {
		return found.Projects[0].ID, nil
	}
	var created struct{ Project struct{ ID string } }
	body := map[string]any{"project": map[string]any{"name": name, "domain_id": "default"}}
	if err := k.Request(ctx, token, http.MethodPost, "/projects", body, &created); err != nil {
		return "", err
	}
	return created.Project.ID, nil
}
