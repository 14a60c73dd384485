package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/host/internal/policy"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/inventory"
)

// The migration routes (DESIGN, "Migration", "The routes"): admin, in the
// OpenStack error format, on manage's migrations.

// migrationRequest is the body of POST /v1/migrations, already checked
// against the migration schema. Secrets are handed to the application
// layer and nowhere else: never logged, stored or answered.
type migrationRequest struct {
	Source struct {
		// Machine is the described machine, checked with shared/inventory
		// (the CLI's checks of an inventory).
		Machine  json.RawMessage `json:"machine"`
		Backend  string          `json:"backend"`
		NodeUUID string          `json:"node_uuid"`
	} `json:"source"`
	Target *struct {
		Backend string `json:"backend"`
	} `json:"target"`
	Server         *migrationServer  `json:"server"`
	Secrets        map[string]string `json:"secrets"`
	NetworkMap     map[string]string `json:"network_map"`
	Image          string            `json:"image"`
	ImageMap       map[string]string `json:"image_map"`
	IdempotencyKey string            `json:"idempotency_key"`
}

// migrationServer is the server a migration adopts its node as: the
// manage body's fields but node_uuid and backend.
type migrationServer struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Metadata    map[string]string `json:"metadata"`
	ProjectID   string            `json:"project_id"`
	UserID      string            `json:"user_id"`
}

// migrationStatuses are the values ?status= takes.
var migrationStatuses = []string{"pending", "running", "done", "failed", "rolled_back"}

// createMigration starts a migration: 202 with it, or 200 with the one an
// idempotency key already names for the same request. With ?dry_run=true
// it makes every check on both sides and changes nothing: 200 with the
// plan, or the error the real call would answer.
func (s *Server) createMigration(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var body migrationRequest
	dryRun, err := s.readCreate(r, policy.MigrationCreate, s.migrationBody, &body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req, err := s.migrationOf(r, body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := s.baseURL(r)
	if dryRun {
		p, err := s.manage.PlanMigration(ctx, req)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, newMigrationPlanView(p))
		return
	}
	m, existing, err := s.manage.Migrate(ctx, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusAccepted
	if existing {
		status = http.StatusOK // the idempotency key's migration, as it stands
	}
	w.Header().Set("Location", base+"/v1/migrations/"+m.UUID)
	writeJSON(w, status, newMigrationView(m, base))
}

// migrationOf checks what the schema cannot say of a migration's body (one
// form of source; the machine by the inventory's rules; network_map only
// for a source backend's node; the server's owner) and makes it the
// application layer's request.
func (s *Server) migrationOf(r *http.Request, body migrationRequest) (manage.MigrationRequest, error) {
	ctx := r.Context()
	req := manage.MigrationRequest{
		Source:         manage.MigrationSource{Backend: body.Source.Backend, NodeUUID: body.Source.NodeUUID},
		Secrets:        body.Secrets,
		NetworkMap:     body.NetworkMap,
		Image:          body.Image,
		ImageMap:       body.ImageMap,
		IdempotencyKey: body.IdempotencyKey,
		Caller:         s.managerCaller(ctx),
	}
	described := len(body.Source.Machine) > 0
	fromBackend := body.Source.Backend != "" || body.Source.NodeUUID != ""
	switch {
	case described && fromBackend:
		return req, errorf(http.StatusBadRequest,
			"Invalid input for field/attribute source. Give either machine (a described machine) or backend and node_uuid (a source backend's node), not both.")
	case described:
		m, err := checkMachine(body.Source.Machine)
		if err != nil {
			return req, err
		}
		req.Source.Machine = &m
		if len(body.NetworkMap) > 0 {
			return req, errorf(http.StatusBadRequest,
				"Invalid input for field/attribute network_map. A described machine's ports name their own networks: network_map is for a source backend's node.")
		}
	case body.Source.Backend == "" || body.Source.NodeUUID == "":
		return req, errorf(http.StatusBadRequest,
			"Invalid input for field/attribute source. Give machine (a described machine), or backend and node_uuid (a source backend's node).")
	}
	if body.Target != nil {
		req.Target = body.Target.Backend
	}
	if body.Server != nil {
		// The owner is checked now, as an adoption checks it; the
		// migration's adoption takes the caller's own for an absent one.
		if _, _, err := s.owner(ctx, "server.", body.Server.ProjectID, body.Server.UserID); err != nil {
			return req, err
		}
		req.Server = &manage.ServerRequest{
			Name: body.Server.Name, Description: body.Server.Description, Metadata: body.Server.Metadata,
			ProjectID: body.Server.ProjectID, UserID: body.Server.UserID,
		}
	}
	return req, nil
}

// maxMachineErrors bounds how many of a machine's problems one answer
// lists, maxMachineErrorBytes how long each may be.
const (
	maxMachineErrors     = 10
	maxMachineErrorBytes = 400
)

// checkMachine checks source.machine with shared/inventory, as the CLI
// checks an inventory's machines: a 400 naming the machine (by its name)
// and each field, in the inventory's words. No message holds a
// driver_info value.
func checkMachine(raw json.RawMessage) (driver.Machine, error) {
	m, err := inventory.ValidateMachine(raw)
	if err == nil {
		return m, nil
	}
	var errs inventory.Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		return driver.Machine{}, errorf(http.StatusBadRequest, "Invalid input for field/attribute source.machine. %s", err.Error())
	}
	label := errs[0].Machine
	if label == "" {
		label = "machine"
	}
	var parts []string
	for i, e := range errs {
		if i == maxMachineErrors {
			parts = append(parts, fmt.Sprintf("and %d more", len(errs)-maxMachineErrors))
			break
		}
		field := "source.machine"
		if e.Field != "" {
			field += fieldJoiner(e.Field) + e.Field
		}
		part, cut := clipTo(field+": "+e.Message, maxMachineErrorBytes) // a machine's keys may be long
		if cut {
			part += "..."
		}
		parts = append(parts, part)
	}
	return driver.Machine{}, errorf(http.StatusBadRequest, "Invalid input for %s: %s.", label, strings.TrimSuffix(strings.Join(parts, "; "), "."))
}

// fieldJoiner joins a machine's field path to source.machine: "ports[1]"
// and "name" take a dot, an index or a quoted key none.
func fieldJoiner(field string) string {
	if strings.HasPrefix(field, "[") {
		return ""
	}
	return "."
}

// listMigrations answers the migrations, newest first: ?status= one of
// migrationStatuses, limit and marker as the servers listing takes them,
// with a migrations_links next link when a page is full.
func (s *Server) listMigrations(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := s.authorize(ctx, policy.MigrationGet, nil); err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := parseQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var opts manage.ListMigrationsOptions
	if opts.Status, err = single(q, "status"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if opts.Status != "" && !slices.Contains(migrationStatuses, opts.Status) {
		s.writeError(w, r, errorf(http.StatusBadRequest, "Invalid value for status: %s. It must be one of %s.",
			quoted(opts.Status), strings.Join(migrationStatuses, ", ")))
		return
	}
	if opts.Limit, err = queryLimit(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	if opts.Marker, err = queryMarker(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	ms, err := s.manage.ListMigrations(ctx, opts)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := s.baseURL(r)
	out := migrationListView{Migrations: make([]migrationView, len(ms))}
	for i, m := range ms {
		out.Migrations[i] = newMigrationView(m, base)
	}
	if opts.Limit > 0 && len(ms) == opts.Limit {
		next := base + "/v1/migrations?" + nextQuery(q, ms[len(ms)-1].UUID).Encode()
		out.Links = []link{{Href: next, Rel: "next"}}
	}
	writeJSON(w, http.StatusOK, out)
}

// showMigration answers one migration: 404 for a path that is not a UUID
// or a migration that does not exist.
func (s *Server) showMigration(w http.ResponseWriter, r *http.Request) {
	s.onMigration(w, r, policy.MigrationGet, http.StatusOK, s.manage.GetMigration)
}

// retryMigration takes a failed migration's adoption up again: 202 with
// the migration; 409 when it is not failed.
func (s *Server) retryMigration(w http.ResponseWriter, r *http.Request) {
	caller := s.managerCaller(r.Context())
	s.onMigration(w, r, policy.MigrationCreate, http.StatusAccepted, func(ctx context.Context, id string) (manage.Migration, error) {
		return s.manage.RetryMigration(ctx, caller, id)
	})
}

// cancelMigration asks a migration to stop and roll back: 202 with the
// migration; 409 once its commit is recorded, or for a done or failed one.
func (s *Server) cancelMigration(w http.ResponseWriter, r *http.Request) {
	s.onMigration(w, r, policy.MigrationDelete, http.StatusAccepted, s.manage.CancelMigration)
}

// onMigration authorizes rule (admin: migrations have no owner, so the
// policy comes before the lookup and a member learns nothing), reads
// {uuid}, calls act and answers status with the migration.
func (s *Server) onMigration(w http.ResponseWriter, r *http.Request, rule string, status int,
	act func(ctx context.Context, id string) (manage.Migration, error),
) {
	ctx := r.Context()
	if err := s.authorize(ctx, rule, nil); err != nil {
		s.writeError(w, r, err)
		return
	}
	id, err := uuidFromPath(r, "Migration")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := act(ctx, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, status, newMigrationView(m, s.baseURL(r)))
}

// exportMachine answers a source backend's node as a machine, the
// inventory's form (`mogan migrate --from B --export`): 200
// {"machine": {…}}, with the fields the backend masks named in its
// secrets and their values nowhere.
func (s *Server) exportMachine(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := s.authorize(ctx, policy.MigrationGet, nil); err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := parseQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	backend, err := queryString(q, "backend")
	if err == nil && backend == "" {
		err = errorf(http.StatusBadRequest, "Missing argument: backend (the source backend).")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	raw, err := single(q, "node_uuid")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	node, perr := uuid.Parse(raw)
	switch {
	case raw == "":
		err = errorf(http.StatusBadRequest, "Missing argument: node_uuid (the node to export).")
	case perr != nil || len(raw) != 36:
		err = errorf(http.StatusBadRequest, "Invalid value for node_uuid: %s is not a UUID.", quoted(raw))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.manage.ExportMachine(ctx, backend, node.String())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]driver.Machine{"machine": m})
}
