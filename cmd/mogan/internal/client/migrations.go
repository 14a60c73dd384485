package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/inventory"
)

// Backend is one entry of GET /v1/backends.
type Backend struct {
	Name         string   `json:"name"`
	Driver       string   `json:"driver"`
	Version      string   `json:"version"`
	Capabilities []string `json:"capabilities"`
	Status       string   `json:"status"`
	Reason       string   `json:"reason"`
}

// ListBackends reads the API's backends, in their configured order.
func (c *Client) ListBackends(ctx context.Context) ([]Backend, error) {
	var body struct {
		Backends []struct {
			Name         string   `json:"name"`
			Driver       *string  `json:"driver"`
			Version      *string  `json:"version"`
			Capabilities []string `json:"capabilities"`
			Status       string   `json:"status"`
			Reason       *string  `json:"reason"`
		} `json:"backends"`
	}
	if err := c.do(ctx, http.MethodGet, "/backends", nil, nil, &body); err != nil {
		return nil, err
	}
	out := make([]Backend, len(body.Backends))
	for i, b := range body.Backends {
		out[i] = Backend{Name: b.Name, Driver: deref(b.Driver), Version: deref(b.Version), Capabilities: b.Capabilities, Status: b.Status, Reason: deref(b.Reason)}
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// MigrationRequest is the body of POST /v1/migrations (DESIGN,
// "Migration"). Secrets are sent here and nowhere else; a Secret prints
// as ****** however this struct is printed.
type MigrationRequest struct {
	Source         MigrationSource             `json:"source"`
	Target         MigrationTarget             `json:"target"`
	Server         *MigrationServer            `json:"server,omitempty"`
	Secrets        map[string]inventory.Secret `json:"secrets,omitempty"`
	NetworkMap     map[string]string           `json:"network_map,omitempty"`
	ImageMap       map[string]string           `json:"image_map,omitempty"`
	IdempotencyKey string                      `json:"idempotency_key"`
}

// MigrationSource is a machine described inline (an inventory's) or a
// node of a source backend (a handoff).
type MigrationSource struct {
	Machine  *driver.Machine `json:"machine,omitempty"`
	Backend  string          `json:"backend,omitempty"`
	NodeUUID string          `json:"node_uuid,omitempty"`
}

// MigrationTarget is the backend the machine goes to.
type MigrationTarget struct {
	Backend string `json:"backend,omitempty"`
}

// MigrationServer asks for the machine to be adopted as a server.
type MigrationServer struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	ProjectID   string            `json:"project_id,omitempty"`
	UserID      string            `json:"user_id,omitempty"`
}

// Migration statuses; Done, Failed and RolledBack are final.
const (
	MigrationPending    = "pending"
	MigrationRunning    = "running"
	MigrationDone       = "done"
	MigrationFailed     = "failed"
	MigrationRolledBack = "rolled_back"
)

// MigrationStatuses are the statuses ?status= takes.
var MigrationStatuses = []string{MigrationPending, MigrationRunning, MigrationDone, MigrationFailed, MigrationRolledBack}

// Final says whether a migration in this status will change no more.
func Final(status string) bool {
	return status == MigrationDone || status == MigrationFailed || status == MigrationRolledBack
}

// Migration is a migration as the API shows it: the fields the CLI reads,
// and all of them in Raw.
type Migration struct {
	UUID       string
	Status     string
	NodeUUID   string
	ServerUUID string
	RequestID  string
	// Error is why the migration failed or was rolled back, as a whole.
	Error string
	Steps []MigrationStep
	Raw   map[string]any
}

// MigrationStep is one step of a migration.
type MigrationStep struct {
	Name       string `json:"name"`
	Status     string `json:"status"`
	StartedAt  string `json:"started_at"`
	FinishedAt string `json:"finished_at"`
	Error      string `json:"error"`
}

// UnmarshalJSON keeps every field in Raw; a null reads as "".
func (m *Migration) UnmarshalJSON(b []byte) error {
	if err := unmarshalNumber(b, &m.Raw); err != nil {
		return err
	}
	m.UUID, _ = m.Raw["uuid"].(string)
	m.Status, _ = m.Raw["status"].(string)
	m.NodeUUID, _ = m.Raw["node_uuid"].(string)
	m.ServerUUID, _ = m.Raw["server_uuid"].(string)
	m.RequestID, _ = m.Raw["request_id"].(string)
	m.Error, _ = m.Raw["error"].(string)
	m.Steps = nil
	if steps, ok := m.Raw["steps"].([]any); ok {
		for _, s := range steps {
			obj, _ := s.(map[string]any)
			str := func(k string) string { v, _ := obj[k].(string); return v }
			m.Steps = append(m.Steps, MigrationStep{Name: str("name"), Status: str("status"), StartedAt: str("started_at"), FinishedAt: str("finished_at"), Error: str("error")})
		}
	}
	return nil
}

// FailedStep is the last step with an error, if any.
func (m Migration) FailedStep() (MigrationStep, bool) {
	for i := len(m.Steps) - 1; i >= 0; i-- {
		if m.Steps[i].Error != "" {
			return m.Steps[i], true
		}
	}
	return MigrationStep{}, false
}

// CreateMigration starts a migration. existing is true when the API
// answered 200: the idempotency key was used already, with this body, and
// m is that earlier migration.
func (c *Client) CreateMigration(ctx context.Context, r MigrationRequest) (m Migration, existing bool, err error) {
	status, err := c.doStatus(ctx, http.MethodPost, "/migrations", nil, r, &m)
	return m, status == http.StatusOK, err
}

// DryRunMigration asks what the migration would do, changing nothing: the
// API answers 200 with its plan. An API that does not know dry_run starts
// the migration instead (202): that answer is a *NoDryRunMigrationError
// naming it.
func (c *Client) DryRunMigration(ctx context.Context, r MigrationRequest) (map[string]any, error) {
	status, raw, err := c.doRaw(ctx, http.MethodPost, "/migrations", url.Values{"dry_run": {"true"}}, r)
	if err != nil {
		return nil, err
	}
	if status == http.StatusAccepted {
		var m Migration
		_ = m.UnmarshalJSON(raw)
		return nil, &NoDryRunMigrationError{UUID: m.UUID}
	}
	var plan map[string]any
	if err := unmarshalNumber(raw, &plan); err != nil {
		return nil, fmt.Errorf("POST /v1/migrations?dry_run=true: reading the answer: %w", err)
	}
	return plan, nil
}

// NoDryRunMigrationError is an API that ignored dry_run=true: it started
// the migration.
type NoDryRunMigrationError struct{ UUID string }

func (e *NoDryRunMigrationError) Error() string {
	return fmt.Sprintf("this API does not support dry runs: it started migration %s (mogan migration cancel %s stops it)", e.UUID, e.UUID)
}

// GetMigration reads one migration.
func (c *Client) GetMigration(ctx context.Context, id string) (Migration, error) {
	var m Migration
	err := c.do(ctx, http.MethodGet, "/migrations/"+url.PathEscape(id), nil, nil, &m)
	return m, err
}

// ListMigrationsOptions filter and bound the listing.
type ListMigrationsOptions struct {
	Status string
	// Limit is the most migrations read; 0: every one.
	Limit int
}

// migrationsPage is how many migrations one listing request asks for.
const migrationsPage = 1000

// ListMigrations reads migrations newest first, page by page.
func (c *Client) ListMigrations(ctx context.Context, o ListMigrationsOptions) ([]Migration, error) {
	all := []Migration{}
	marker := ""
	for {
		page := migrationsPage
		if o.Limit > 0 {
			page = min(page, o.Limit-len(all))
		}
		q := url.Values{"limit": {strconv.Itoa(page)}}
		if o.Status != "" {
			q.Set("status", o.Status)
		}
		if marker != "" {
			q.Set("marker", marker)
		}
		var body struct {
			Migrations []Migration `json:"migrations"`
		}
		if err := c.do(ctx, http.MethodGet, "/migrations", q, nil, &body); err != nil {
			return nil, err
		}
		all = append(all, body.Migrations...)
		if len(body.Migrations) < page || (o.Limit > 0 && len(all) >= o.Limit) {
			return all, nil
		}
		marker = body.Migrations[len(body.Migrations)-1].UUID
	}
}

// RetryMigration retries a failed migration's adoption step (202).
func (c *Client) RetryMigration(ctx context.Context, id string) (Migration, error) {
	return c.migrationAction(ctx, http.MethodPost, "/migrations/"+url.PathEscape(id)+"/retry", id)
}

// CancelMigration cancels a migration: 202 while it rolls back, an
// *APIError 409 once it is past the point of no return.
func (c *Client) CancelMigration(ctx context.Context, id string) (Migration, error) {
	return c.migrationAction(ctx, http.MethodDelete, "/migrations/"+url.PathEscape(id), id)
}

// migrationAction sends an action whose answer may carry the migration
// or nothing; with nothing, the migration is read back.
func (c *Client) migrationAction(ctx context.Context, method, path, id string) (Migration, error) {
	_, raw, err := c.doRaw(ctx, method, path, nil, nil)
	if err != nil {
		return Migration{}, err
	}
	var m Migration
	if len(raw) > 0 {
		if err := m.UnmarshalJSON(raw); err == nil && m.UUID != "" {
			return m, nil
		}
	}
	return c.GetMigration(ctx, id)
}

// ExportMachine reads a source backend's node as a machine description:
// GET /v1/migrations/export, {"machine": {…}}, the secret fields the
// backend masks named in secrets and absent from driver_info. The machine
// comes back as decoded JSON (numbers as json.Number), for
// inventory.ValidateMachine.
func (c *Client) ExportMachine(ctx context.Context, backend, nodeUUID string) (any, error) {
	var body struct {
		Machine json.RawMessage `json:"machine"`
	}
	q := url.Values{"backend": {backend}, "node_uuid": {nodeUUID}}
	if err := c.do(ctx, http.MethodGet, "/migrations/export", q, nil, &body); err != nil {
		return nil, err
	}
	if len(body.Machine) == 0 {
		return nil, fmt.Errorf("GET /v1/migrations/export: the answer has no machine")
	}
	var m any
	if err := unmarshalNumber(body.Machine, &m); err != nil {
		return nil, err
	}
	return m, nil
}
