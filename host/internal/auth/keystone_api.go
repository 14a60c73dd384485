package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// tokenBody is the part of Keystone's token document the host uses.
type tokenBody struct {
	Token struct {
		ExpiresAt string `json:"expires_at"`
		User      struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Domain struct {
				ID string `json:"id"`
			} `json:"domain"`
		} `json:"user"`
		Project *struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"project"`
		Roles []struct {
			Name string `json:"name"`
		} `json:"roles"`
	} `json:"token"`
}

func (b *tokenBody) expiresAt() (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, b.Token.ExpiresAt)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: keystone sent a token without a valid expires_at", ErrAuthUnavailable)
	}
	return t, nil
}

// login authenticates the host with [keystone_authtoken]'s password
// credentials and returns its project-scoped token.
func (k *Keystone) login(ctx context.Context) (string, time.Time, error) {
	body, err := json.Marshal(map[string]any{"auth": map[string]any{
		"identity": map[string]any{
			"methods": []string{"password"},
			"password": map[string]any{"user": map[string]any{
				"name": k.cfg.Username, "password": k.cfg.Password,
				"domain": map[string]string{"name": k.cfg.UserDomainName},
			}},
		},
		"scope": map[string]any{"project": map[string]any{
			"name": k.cfg.ProjectName, "domain": map[string]string{"name": k.cfg.ProjectDomainName},
		}},
	}})
	if err != nil {
		return "", time.Time{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.v3+"/auth/tokens", bytes.NewReader(body))
	if err != nil {
		return "", time.Time{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return "", time.Time{}, unreachable(err)
	}
	defer func() { _ = resp.Body.Close() }()
	switch resp.StatusCode {
	case http.StatusCreated:
	case http.StatusUnauthorized:
		return "", time.Time{}, fmt.Errorf("%w: keystone refused the host's [keystone_authtoken] credentials (user %s, project %s)",
			ErrAuthUnavailable, k.cfg.Username, k.cfg.ProjectName)
	default:
		return "", time.Time{}, fmt.Errorf("%w: keystone answered %s to the host's login", ErrAuthUnavailable, resp.Status)
	}
	var tb tokenBody
	if err := decode(resp.Body, &tb); err != nil {
		return "", time.Time{}, err
	}
	expires, err := tb.expiresAt()
	if err != nil {
		return "", time.Time{}, err
	}
	token := resp.Header.Get("X-Subject-Token")
	if token == "" {
		return "", time.Time{}, fmt.Errorf("%w: keystone sent no X-Subject-Token", ErrAuthUnavailable)
	}
	return token, expires, nil
}

// validate asks Keystone about token. A refused service token is renewed
// and the question asked once more.
func (k *Keystone) validate(ctx context.Context, token string) (Caller, time.Time, error) {
	for attempt := 0; ; attempt++ {
		svc, err := k.serviceToken(ctx)
		if err != nil {
			return Caller{}, time.Time{}, err
		}
		c, expires, status, err := k.check(ctx, svc, token)
		if status == http.StatusUnauthorized && attempt == 0 {
			k.log.Info("keystone refused the service token; authenticating again")
			k.dropServiceToken(svc)
			continue
		}
		return c, expires, err
	}
}

// check is one GET /v3/auth/tokens. It returns Keystone's status with the
// result, so validate can retry a 401.
func (k *Keystone) check(ctx context.Context, svc, token string) (Caller, time.Time, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.v3+"/auth/tokens", nil)
	if err != nil {
		return Caller{}, time.Time{}, 0, err
	}
	req.Header.Set("X-Auth-Token", svc)
	req.Header.Set("X-Subject-Token", token)
	resp, err := k.client.Do(req)
	if err != nil {
		return Caller{}, time.Time{}, 0, unreachable(err)
	}
	defer func() { _ = resp.Body.Close() }()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusBadRequest:
		// Keystone's answer for an unknown, malformed, expired or revoked token.
		return Caller{}, time.Time{}, resp.StatusCode, fmt.Errorf("%w: invalid or expired token", ErrUnauthenticated)
	case http.StatusUnauthorized:
		return Caller{}, time.Time{}, resp.StatusCode, fmt.Errorf("%w: keystone refused the host's service token", ErrAuthUnavailable)
	case http.StatusForbidden:
		return Caller{}, time.Time{}, resp.StatusCode, fmt.Errorf(
			"%w: keystone does not let user %s validate tokens (give it the service or admin role)", ErrAuthUnavailable, k.cfg.Username)
	default:
		return Caller{}, time.Time{}, resp.StatusCode, fmt.Errorf("%w: keystone answered %s to a token validation", ErrAuthUnavailable, resp.Status)
	}
	var tb tokenBody
	if err := decode(resp.Body, &tb); err != nil {
		return Caller{}, time.Time{}, resp.StatusCode, err
	}
	expires, err := tb.expiresAt()
	if err != nil {
		return Caller{}, time.Time{}, resp.StatusCode, err
	}
	t := tb.Token
	c := Caller{UserID: t.User.ID, UserName: t.User.Name, DomainID: t.User.Domain.ID}
	if t.Project != nil {
		c.ProjectID, c.ProjectName = t.Project.ID, t.Project.Name
	}
	for _, r := range t.Roles {
		c.Roles = append(c.Roles, r.Name)
	}
	if c.UserID == "" {
		return Caller{}, time.Time{}, resp.StatusCode, fmt.Errorf("%w: keystone sent a token without a user", ErrAuthUnavailable)
	}
	return c, expires, resp.StatusCode, nil
}

// decode reads a JSON answer of at most 1 MiB (catalogs can be large).
func decode(r io.Reader, v any) error {
	if err := json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("%w: unreadable answer from keystone: %w", ErrAuthUnavailable, err)
	}
	return nil
}
