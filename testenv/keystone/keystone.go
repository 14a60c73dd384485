package keystone

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/internal/jsonapi"
	"github.com/mogan-manage/mogan-manage/testenv/internal/service"
)

// DomainName is the domain every user and project lives in.
const DomainName = "Default"

// User is a Keystone user with a role on one project.
type User struct {
	Name, Password, ID string
	Project, ProjectID string
	Role               string
}

// Keystone is a running standalone Keystone.
type Keystone struct {
	// URL is the identity v3 endpoint, e.g. http://127.0.0.1:41234/v3.
	URL string
	// Admin has the admin role on project "admin" (keystone-manage bootstrap).
	Admin User
	// Member has only the member role on project "demo".
	Member User
	// Service is the host's own user, role "service" on project "service",
	// as a deployment gives keystonemiddleware's user: it may validate
	// other users' tokens.
	Service User

	proc *service.Process
	api  *jsonapi.Client
}

type options struct {
	tokenExpiration time.Duration
	noUsers         bool
}

// Option changes how Start configures Keystone.
type Option func(*options)

// WithTokenExpiration sets Keystone's [token] expiration (whole seconds,
// at least 1): how long every token it issues is valid.
func WithTokenExpiration(d time.Duration) Option {
	return func(o *options) { o.tokenExpiration = max(d, time.Second) }
}

// WithoutUsers leaves Keystone as bootstrap made it: only the admin, no
// member or service user, no "service" role (Member and Service stay
// empty), for a test that creates them as an operator would
// (docs/doctest).
func WithoutUsers() Option {
	return func(o *options) { o.noUsers = true }
}

// Start runs Keystone with its files in dir (which the caller owns and
// removes) and creates the member and service users. ctx bounds start-up
// only; the process runs until Stop.
func Start(ctx context.Context, dir string, opts ...Option) (*Keystone, error) {
	o := options{tokenExpiration: time.Hour}
	for _, opt := range opts {
		opt(&o)
	}
	k := &Keystone{
		Admin:   User{Name: "admin", Password: randomPassword(), Project: "admin", Role: "admin"},
		Member:  User{Name: "demo", Password: randomPassword(), Project: "demo", Role: "member"},
		Service: User{Name: "mogan", Password: randomPassword(), Project: "service", Role: "service"},
	}
	proc, url, err := launch(ctx, dir, k.Admin.Password, o.tokenExpiration)
	if err != nil {
		return nil, err
	}
	k.proc, k.URL = proc, url
	k.api = &jsonapi.Client{URL: url, Name: "keystone"} // nil HTTP: a 30 s timeout
	if o.noUsers {
		k.Member, k.Service = User{}, User{}
	}
	if err := k.populate(ctx); err != nil {
		k.Stop()
		return nil, fmt.Errorf("keystone: create test users: %w\n%s", err, proc.Tail(20))
	}
	return k, nil
}

// Stop ends Keystone and waits for it. Calling it twice is harmless.
func (k *Keystone) Stop() {
	if k.proc != nil {
		k.proc.Stop()
	}
}

// populate records the admin's ids and creates the "service" role, the
// demo and service projects and their users (not WithoutUsers), with the
// admin's token.
func (k *Keystone) populate(ctx context.Context) error {
	token, err := k.AdminToken(ctx)
	if err != nil {
		return err
	}
	var admin struct {
		Token struct {
			User    struct{ ID string }
			Project struct{ ID string }
		}
	}
	if err := k.Request(ctx, token, http.MethodGet, "/auth/tokens", nil, &admin, "X-Subject-Token", token); err != nil {
		return err
	}
	k.Admin.ID, k.Admin.ProjectID = admin.Token.User.ID, admin.Token.Project.ID
	if k.Service.Name == "" {
		return nil // WithoutUsers
	}

	roles := map[string]string{}
	var list struct {
		Roles []struct{ ID, Name string } `json:"roles"`
	}
	if err := k.Request(ctx, token, http.MethodGet, "/roles", nil, &list); err != nil {
		return err
	}
	for _, r := range list.Roles {
		roles[r.Name] = r.ID
	}
	if roles["service"] == "" {
		var created struct{ Role struct{ ID string } }
		body := map[string]any{"role": map[string]any{"name": "service"}}
		if err := k.Request(ctx, token, http.MethodPost, "/roles", body, &created); err != nil {
			return err
		}
		roles["service"] = created.Role.ID
	}

	for _, u := range []*User{&k.Member, &k.Service} {
		// A fresh token for each user: with WithTokenExpiration's short
		// lifetimes a busy machine can outlast one token here.
		if token, err = k.AdminToken(ctx); err != nil {
			return err
		}
		var project struct{ Project struct{ ID string } }
		body := map[string]any{"project": map[string]any{"name": u.Project, "domain_id": "default"}}
		if err := k.Request(ctx, token, http.MethodPost, "/projects", body, &project); err != nil {
			return err
		}
		u.ProjectID = project.Project.ID
		var user struct{ User struct{ ID string } }
		body = map[string]any{"user": map[string]any{
			"name": u.Name, "password": u.Password, "domain_id": "default", "default_project_id": u.ProjectID,
		}}
		if err := k.Request(ctx, token, http.MethodPost, "/users", body, &user); err != nil {
			return err
		}
		u.ID = user.User.ID
		path := fmt.Sprintf("/projects/%s/users/%s/roles/%s", u.ProjectID, u.ID, roles[u.Role])
		if err := k.Request(ctx, token, http.MethodPut, path, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// Token returns a project-scoped token for a user of the Default domain.
func (k *Keystone) Token(ctx context.Context, user, password, project string) (string, error) {
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{
			"methods": []string{"password"},
			"password": map[string]any{"user": map[string]any{
				"name": user, "password": password, "domain": map[string]string{"name": DomainName},
			}},
		},
		"scope": map[string]any{"project": map[string]any{
			"name": project, "domain": map[string]string{"name": DomainName},
		}},
	}}
	resp, err := k.api.Do(ctx, http.MethodPost, "/auth/tokens", body)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("keystone: token for %s: %s: %s", user, resp.Status, b)
	}
	return resp.Header.Get("X-Subject-Token"), nil
}

// AdminToken returns a token of the admin user on project admin.
func (k *Keystone) AdminToken(ctx context.Context) (string, error) {
	return k.Token(ctx, k.Admin.Name, k.Admin.Password, k.Admin.Project)
}

// Request calls the identity API (path relative to URL, e.g. "/services")
// with token, sending body as JSON when it is not nil and decoding a JSON
// answer into out when out is not nil. headers are extra name, value pairs.
// Any status outside 2xx is an error carrying Keystone's answer.
func (k *Keystone) Request(ctx context.Context, token, method, path string, body, out any, headers ...string) error {
	if token != "" {
		headers = append(headers, "X-Auth-Token", token)
	}
	return k.api.Request(ctx, method, path, body, out, headers...)
}

func randomPassword() string {
	return "pw-" + strings.ToLower(rand.Text())
}
