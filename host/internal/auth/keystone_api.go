package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
)

// identity is the identity v3 client acting with the service token svc
// ("" for the login, which sends none). gophercloud's own token handling
// is not used: the service token is shared by every validation and
// renewed by serviceToken, ahead of its expiry.
func (k *Keystone) identity(svc string) *gophercloud.ServiceClient {
	sc := &gophercloud.ServiceClient{ProviderClient: k.provider, Endpoint: k.v3 + "/", Type: "identity"}
	if svc != "" {
		sc.MoreHeaders = map[string]string{"X-Auth-Token": svc}
	}
	return sc
}

// login authenticates the host with [keystone_authtoken]'s password
// credentials and returns its project-scoped token.
func (k *Keystone) login(ctx context.Context) (string, time.Time, error) {
	opts := tokens.AuthOptions{
		Username: k.cfg.Username, Password: k.cfg.Password,
		DomainName: k.cfg.UserDomainName, DomainID: k.cfg.UserDomainID,
		Scope: tokens.Scope{ProjectName: k.cfg.ProjectName, DomainName: k.cfg.ProjectDomainName, DomainID: k.cfg.ProjectDomainID},
	}
	res := tokens.Create(ctx, k.identity(""), &opts)
	if res.Err != nil {
		status, err := answered(res.Err)
		switch status {
		case 0:
			return "", time.Time{}, err
		case http.StatusUnauthorized:
			return "", time.Time{}, fmt.Errorf("%w: keystone refused the host's [keystone_authtoken] credentials (user %s, project %s)",
				ErrAuthUnavailable, k.cfg.Username, k.cfg.ProjectName)
		default:
			return "", time.Time{}, fmt.Errorf("%w: keystone answered %s to the host's login", ErrAuthUnavailable, statusText(status))
		}
	}
	tok, err := res.ExtractToken()
	if err != nil || tok.ExpiresAt.IsZero() {
		return "", time.Time{}, errNoExpiry
	}
	if tok.ID == "" {
		return "", time.Time{}, fmt.Errorf("%w: keystone sent no X-Subject-Token", ErrAuthUnavailable)
	}
	return tok.ID, tok.ExpiresAt, nil
}

var errNoExpiry = fmt.Errorf("%w: keystone sent a token without a valid expires_at", ErrAuthUnavailable)

// withServiceToken runs call with the host's token. A refused service
// token (401) is renewed and call made once more.
func (k *Keystone) withServiceToken(ctx context.Context, call func(sc *gophercloud.ServiceClient) error) error {
	for attempt := 0; ; attempt++ {
		svc, err := k.serviceToken(ctx)
		if err != nil {
			return err
		}
		err = call(k.identity(svc))
		if gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) && attempt == 0 {
			k.log.Info("keystone refused the service token; authenticating again")
			k.dropServiceToken(svc)
			continue
		}
		return err
	}
}

// validate asks Keystone about token (GET /v3/auth/tokens with
// X-Subject-Token).
func (k *Keystone) validate(ctx context.Context, token string) (Caller, time.Time, error) {
	var res tokens.GetResult
	err := k.withServiceToken(ctx, func(sc *gophercloud.ServiceClient) error {
		res = tokens.Get(ctx, sc, token)
		return res.Err
	})
	if err != nil {
		status, err := answered(err)
		switch status {
		case 0:
			return Caller{}, time.Time{}, err
		case http.StatusNotFound, http.StatusBadRequest:
			// Keystone's answer for an unknown, malformed, expired or revoked token.
			return Caller{}, time.Time{}, fmt.Errorf("%w: invalid or expired token", ErrUnauthenticated)
		case http.StatusUnauthorized:
			return Caller{}, time.Time{}, fmt.Errorf("%w: keystone refused the host's service token", ErrAuthUnavailable)
		case http.StatusForbidden:
			return Caller{}, time.Time{}, fmt.Errorf(
				"%w: keystone does not let user %s validate tokens (give it the service or admin role)", ErrAuthUnavailable, k.cfg.Username)
		default:
			return Caller{}, time.Time{}, fmt.Errorf("%w: keystone answered %s to a token validation", ErrAuthUnavailable, statusText(status))
		}
	}
	return callerOf(res)
}

// callerOf reads the caller out of a validated token.
func callerOf(res tokens.GetResult) (Caller, time.Time, error) {
	tok, err := res.ExtractToken()
	if err != nil || tok.ExpiresAt.IsZero() {
		return Caller{}, time.Time{}, errNoExpiry
	}
	user, err := res.ExtractUser()
	if err != nil {
		return Caller{}, time.Time{}, unreadable(err)
	}
	if user == nil || user.ID == "" {
		return Caller{}, time.Time{}, fmt.Errorf("%w: keystone sent a token without a user", ErrAuthUnavailable)
	}
	project, err := res.ExtractProject()
	if err != nil {
		return Caller{}, time.Time{}, unreadable(err)
	}
	roles, err := res.ExtractRoles()
	if err != nil {
		return Caller{}, time.Time{}, unreadable(err)
	}
	c := Caller{UserID: user.ID, UserName: user.Name, DomainID: user.Domain.ID}
	if project != nil {
		c.ProjectID, c.ProjectName = project.ID, project.Name
	}
	for _, r := range roles {
		c.Roles = append(c.Roles, r.Name)
	}
	return c, tok.ExpiresAt, nil
}

// ProjectExists asks Keystone, with the host's own token, whether it
// knows project id (GET /v3/projects/{id}).
func (k *Keystone) ProjectExists(ctx context.Context, id string) (bool, error) {
	return k.exists(ctx, "projects", func(sc *gophercloud.ServiceClient) error {
		return projects.Get(ctx, sc, id).Err
	})
}

// UserExists asks Keystone, with the host's own token, whether it knows
// user id (GET /v3/users/{id}).
func (k *Keystone) UserExists(ctx context.Context, id string) (bool, error) {
	return k.exists(ctx, "users", func(sc *gophercloud.ServiceClient) error {
		return users.Get(ctx, sc, id).Err
	})
}

func (k *Keystone) exists(ctx context.Context, what string, get func(sc *gophercloud.ServiceClient) error) (bool, error) {
	err := k.withServiceToken(ctx, get)
	if err == nil {
		return true, nil
	}
	status, err := answered(err)
	switch status {
	case 0:
		return false, err
	case http.StatusNotFound:
		return false, nil
	case http.StatusUnauthorized:
		return false, fmt.Errorf("%w: keystone refused the host's service token", ErrAuthUnavailable)
	case http.StatusForbidden:
		// Keystone's identity:get_project and identity:get_user rules.
		return false, fmt.Errorf("%w: keystone does not let user %s read %s (give it the admin role)", ErrAuthUnavailable, k.cfg.Username, what)
	default:
		return false, fmt.Errorf("%w: keystone answered %s to a look-up of %s", ErrAuthUnavailable, statusText(status), what)
	}
}

// answered returns the status Keystone answered with, or 0 and the
// ErrAuthUnavailable it is when Keystone did not answer (unreachable, the
// timeout) or answered something unreadable. The package's own errors
// (the login's) pass through.
func answered(err error) (int, error) {
	if errors.Is(err, ErrAuthUnavailable) {
		return 0, err
	}
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) {
		return code.Actual, nil
	}
	var netErr *url.Error
	if errors.As(err, &netErr) {
		return 0, unreachable(err)
	}
	return 0, unreadable(err)
}

func unreadable(err error) error {
	return fmt.Errorf("%w: unreadable answer from keystone: %w", ErrAuthUnavailable, redacted{err})
}

func statusText(code int) string {
	return fmt.Sprintf("%d %s", code, http.StatusText(code))
}
