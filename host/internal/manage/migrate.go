package manage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// Migrations (DESIGN, "Migration"): a running machine taken from an
// inventory, or from a source backend, into a target backend that can
// enroll it, optionally adopted as a server, never touched.

// MigrationConfig is the [migration] section.
type MigrationConfig struct {
	// MaxConcurrent migrations run at once in this replica; more wait
	// (pending).
	MaxConcurrent int
	// EnrollTimeout bounds how long a node may take to become active and
	// protected in the target.
	EnrollTimeout time.Duration
}

// Defaults of MigrationConfig.
const (
	DefaultMigrationConcurrency = 16
	DefaultEnrollTimeout        = 30 * time.Minute
)

// MigrationRequest is what the operator asked for (POST /v1/migrations).
type MigrationRequest struct {
	// Source is a described machine (an inventory's), or a source
	// backend's node.
	Source MigrationSource `json:"source"`
	// Target is the backend to enroll into; "" when exactly one can.
	Target string `json:"target,omitempty"`
	// Server asks for an adoption as a server once the node is active;
	// nil leaves the node manageable.
	Server *ServerRequest `json:"server,omitempty"`
	// Secrets are the values of the driver_info fields the machine names
	// as secrets; never stored, logged or answered.
	Secrets map[string]string `json:"-"`
	// NetworkMap maps a source port's network (or physical_network, or
	// "*" for every port) to a target network; Image sets every machine's
	// image, ImageMap maps a source image to a target one.
	NetworkMap     map[string]string `json:"network_map,omitempty"`
	Image          string            `json:"image,omitempty"`
	ImageMap       map[string]string `json:"image_map,omitempty"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
	Caller         Caller            `json:"-"`
}

// MigrationSource is where the machine comes from: exactly one of Machine
// and Backend (with NodeUUID).
type MigrationSource struct {
	Machine  *driver.Machine `json:"machine,omitempty"`
	Backend  string          `json:"backend,omitempty"`
	NodeUUID string          `json:"node_uuid,omitempty"`
}

// ServerRequest is the server a migration adopts its node as.
type ServerRequest struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	ProjectID   string            `json:"project_id,omitempty"`
	UserID      string            `json:"user_id,omitempty"`
}

// migrationPlan is what a migration's run needs, resolved when it was
// accepted (networks, image) and stored with it, without secrets.
type migrationPlan struct {
	Kind          string         `json:"kind"`
	SourceBackend string         `json:"source_backend,omitempty"`
	TargetBackend string         `json:"target_backend"`
	NodeUUID      string         `json:"node_uuid"`
	Machine       driver.Machine `json:"machine"`
	// Networks are the Neutron network ids of the machine's ports, by
	// MAC ("" for a port without one).
	Networks map[string]string `json:"networks,omitempty"`
	Server   *ServerRequest    `json:"server,omitempty"`
}

// Migration is a migration as the API shows it.
type Migration struct {
	UUID          string
	Status        string
	Kind          string
	SourceBackend string
	SourceMachine string // the described machine's name (inventory)
	TargetBackend string
	NodeUUID      string
	ServerUUID    string
	Steps         []MigrationStep
	RequestID     string
	Error         string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// MigrationStep is one step of a migration as the API shows it.
type MigrationStep struct {
	Name       string
	Status     string
	StartedAt  *time.Time
	FinishedAt *time.Time
	Error      string
}

// MigrationPlan is a dry run's answer: what a migration would create
// where.
type MigrationPlan struct {
	Kind          string
	SourceBackend string
	TargetBackend string
	NodeUUID      string
	Machine       driver.Machine
	// Ports are the Neutron ports it would create or reuse.
	Ports []PlannedPort
	// Server is the server it would adopt the node as (nil: none).
	Server *ServerRequest
}

// PlannedPort is one NIC's Neutron port in a plan.
type PlannedPort struct {
	MAC       string
	NetworkID string
	FixedIPs  []string
	// PortID is the port reused; "" when it would be created.
	PortID string
}

// PlanMigration makes every check a migration of req would make, on both
// sides, and says what it would create where, changing nothing: the same
// errors as Migrate.
func (s *Service) PlanMigration(ctx context.Context, req MigrationRequest) (MigrationPlan, error) {
	p, ports, err := s.planMigration(ctx, req)
	if err != nil {
		return MigrationPlan{}, err
	}
	return MigrationPlan{Kind: p.Kind, SourceBackend: p.SourceBackend, TargetBackend: p.TargetBackend, NodeUUID: p.NodeUUID,
		Machine: p.Machine, Ports: ports, Server: p.Server}, nil
}

// Migrate accepts a migration and starts it in the background (it waits,
// pending, while [migration] max_concurrent run): the migration as
// recorded, and false; or, for an idempotency key already used with the
// same request (secrets not compared), that migration and true.
func (s *Service) Migrate(ctx context.Context, req MigrationRequest) (Migration, bool, error) {
	hash, request, err := requestHash(req)
	if err != nil {
		return Migration{}, false, err
	}
	if req.IdempotencyKey != "" {
		if m, same, err := s.byKey(ctx, req.IdempotencyKey, hash); err == nil || !errors.Is(err, store.ErrNotFound) {
			return m, same, err
		}
	}
	p, _, err := s.planMigration(ctx, req)
	if err != nil {
		return Migration{}, false, err
	}
	plan, err := json.Marshal(p)
	if err != nil {
		return Migration{}, false, err
	}
	m := store.Migration{
		UUID: uuid.NewString(), Status: store.MigrationPending, Kind: p.Kind, SourceBackend: p.SourceBackend,
		TargetBackend: p.TargetBackend, NodeUUID: p.NodeUUID, Request: request, Plan: plan,
		IdempotencyKey: req.IdempotencyKey, BodyHash: hash,
		RequestID: req.Caller.RequestID, UserID: req.Caller.UserID, ProjectID: req.Caller.ProjectID,
	}
	in := store.Intent{Backend: p.TargetBackend, RequestID: req.Caller.RequestID, UserID: req.Caller.UserID,
		ProjectID: req.Caller.ProjectID, Owner: s.owner, OwnerEpoch: s.epoch, LeaseExpiresAt: s.leaseUntil()}
	switch err := s.store.CreateMigration(ctx, m, in); {
	case errors.Is(err, store.ErrKeyUsed):
		return s.byKey(ctx, req.IdempotencyKey, hash)
	case errors.Is(err, store.ErrNodeClaimed):
		return Migration{}, false, &refusal{kind: ErrConflict, msg: fmt.Sprintf("Node %s is being migrated by another migration: %v.", p.NodeUUID, err)}
	case errors.Is(err, store.ErrNodeTaken):
		return Migration{}, false, &refusal{kind: ErrConflict, msg: fmt.Sprintf("Node %s is adopted (or being adopted) as a server already.", p.NodeUUID)}
	case err != nil:
		return Migration{}, false, storeError(err)
	}
	stored, err := s.store.GetMigration(ctx, m.UUID)
	if err != nil {
		return Migration{}, false, storeError(err)
	}
	in.ServerUUID, in.NodeUUID, in.Action, in.MigrationUUID = m.UUID, m.NodeUUID, store.ActionMigrate, m.UUID
	s.log.Info("migration accepted", "migration", m.UUID, "kind", p.Kind, "source_backend", p.SourceBackend,
		"target_backend", p.TargetBackend, "node_uuid", p.NodeUUID, "request_id", req.Caller.RequestID)
	s.notifyMigration(ctx, req.Caller, eventMigrationStart, stored, nil)
	s.runner.start(s.migrationJobOf(in, stored, p, secretsOf(p.Machine, req.Secrets), req.Caller))
	return s.migrationView(stored), false, nil
}

// byKey is the migration an idempotency key names: the same request is
// that migration (true), another one a conflict.
func (s *Service) byKey(ctx context.Context, key, hash string) (Migration, bool, error) {
	m, err := s.store.MigrationByKey(ctx, key)
	if err != nil {
		return Migration{}, false, err
	}
	if m.BodyHash != hash {
		return Migration{}, false, &refusal{kind: ErrConflict, msg: fmt.Sprintf(
			"The idempotency key names migration %s, made by another request: use another key, or the request it was made with.", m.UUID)}
	}
	return s.migrationView(m), true, nil
}

// requestHash is the request as stored (without secrets, canonical JSON)
// and its sha256.
func requestHash(req MigrationRequest) (string, json.RawMessage, error) {
	b, err := json.Marshal(req) // maps marshal in key order: canonical
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), b, nil
}

// GetMigration returns one migration: ErrMigrationNotFound when there is
// none.
func (s *Service) GetMigration(ctx context.Context, uuid string) (Migration, error) {
	m, err := s.store.GetMigration(ctx, uuid)
	if errors.Is(err, store.ErrNotFound) {
		return Migration{}, &refusal{kind: ErrServerNotFound, msg: fmt.Sprintf("Migration %s could not be found.", uuid)}
	}
	if err != nil {
		return Migration{}, storeError(err)
	}
	return s.migrationView(m), nil
}

// ListMigrationsOptions page through migrations, newest first.
type ListMigrationsOptions struct {
	Status string
	Limit  int
	Marker string
}

// ListMigrations lists migrations, newest first.
func (s *Service) ListMigrations(ctx context.Context, opts ListMigrationsOptions) ([]Migration, error) {
	ms, err := s.store.ListMigrations(ctx, store.MigrationListOptions{Status: opts.Status, Limit: opts.Limit, Marker: opts.Marker})
	if errors.Is(err, store.ErrNotFound) {
		return nil, &refusal{kind: ErrMarkerNotFound, msg: fmt.Sprintf("Marker %s could not be found.", opts.Marker)}
	}
	if err != nil {
		return nil, storeError(err)
	}
	out := make([]Migration, len(ms))
	for i, m := range ms {
		out[i] = s.migrationView(m)
	}
	return out, nil
}

// RetryMigration takes a failed migration (its adoption failed; the node is
// active and protected in the target) up again.
func (s *Service) RetryMigration(ctx context.Context, caller Caller, uuid string) (Migration, error) {
	m, err := s.store.GetMigration(ctx, uuid)
	if errors.Is(err, store.ErrNotFound) {
		return Migration{}, &refusal{kind: ErrServerNotFound, msg: fmt.Sprintf("Migration %s could not be found.", uuid)}
	}
	if err != nil {
		return Migration{}, storeError(err)
	}
	var p migrationPlan
	if err := json.Unmarshal(m.Plan, &p); err != nil {
		return Migration{}, fmt.Errorf("migration %s: plan: %w", uuid, err)
	}
	in := store.Intent{ServerUUID: m.UUID, NodeUUID: m.NodeUUID, Backend: m.TargetBackend, RequestID: caller.RequestID,
		UserID: caller.UserID, ProjectID: caller.ProjectID, Owner: s.owner, OwnerEpoch: s.epoch, LeaseExpiresAt: s.leaseUntil()}
	switch err := s.store.RetryMigration(ctx, in); {
	case errors.Is(err, store.ErrCommitted):
		return Migration{}, &refusal{kind: ErrBusy, msg: fmt.Sprintf(
			"Migration %s is %s: only a failed migration can be retried.", uuid, m.Status)}
	case err != nil:
		return Migration{}, storeError(err)
	}
	in.Action, in.MigrationUUID = store.ActionMigrate, m.UUID
	m.Status = store.MigrationRunning
	// A retry goes on from the failed adoption: the steps before it are
	// done (the new intent starts with them).
	in.Steps = doneBefore(m.Steps, stepAdopt)
	if err := s.store.SaveSteps(ctx, in, in.Steps); err != nil {
		return Migration{}, storeError(err)
	}
	s.runner.start(s.migrationJobOf(in, m, p, nil, caller))
	m.Steps = in.Steps
	return s.migrationView(m), nil
}

// doneBefore are the steps up to the first of kind name (excluded).
func doneBefore(steps []store.Step, name string) []store.Step {
	for i, st := range steps {
		if st.Name == name {
			return slices.Clone(steps[:i])
		}
	}
	return slices.Clone(steps)
}

// CancelMigration asks a running migration to stop: it undoes what it did
// (the machine exactly as it was). A migration whose commit is recorded, or
// that is over, is a 409.
func (s *Service) CancelMigration(ctx context.Context, uuid string) (Migration, error) {
	m, err := s.GetMigration(ctx, uuid)
	if err != nil {
		return Migration{}, err
	}
	err = s.store.RequestCancel(ctx, uuid, func(steps []store.Step) bool {
		return slices.ContainsFunc(steps, func(st store.Step) bool { return st.Name == stepReleaseSource })
	})
	switch {
	case errors.Is(err, store.ErrCommitted):
		return Migration{}, &refusal{kind: ErrBusy, msg: fmt.Sprintf(
			"Migration %s has recorded its commit (the source node is being released): it can only go forward.", uuid)}
	case errors.Is(err, store.ErrNotFound):
		return Migration{}, &refusal{kind: ErrBusy, msg: fmt.Sprintf(
			"Migration %s is %s: only a pending or running one can be cancelled (a done or failed one leaves its node in the target, untouched).",
			uuid, m.Status)}
	case err != nil:
		return Migration{}, storeError(err)
	}
	s.log.Info("migration cancel requested", "migration", uuid)
	return m, nil
}

// ExportMachine describes a source backend's node as a machine (the
// inventory's form), for `mogan migrate --export`.
func (s *Service) ExportMachine(ctx context.Context, backend, nodeUUID string) (driver.Machine, error) {
	drv, err := s.driverOf(backend)
	if err != nil {
		return driver.Machine{}, &refusal{kind: ErrInvalidArgument, msg: fmt.Sprintf("Unknown backend %q: the backends are %s.", backend, s.backends.names())}
	}
	exp, err := drv.ExportNode(ctx, nodeUUID)
	if err != nil {
		return driver.Machine{}, backendCapability(err, backend, "export")
	}
	return exp.Machine, nil
}

// backendCapability names the backend in a driver's Unimplemented.
func backendCapability(err error, backend, capability string) error {
	if errors.Is(err, driver.ErrNotImplemented) {
		return &refusal{kind: ErrNotImplemented, msg: fmt.Sprintf(
			"Backend %q cannot %s: its driver does not have the %q capability.", backend, capabilityVerb[capability], capability)}
	}
	return err
}

var capabilityVerb = map[string]string{
	driver.CapabilityEnroll: "enroll machines", driver.CapabilityExport: "export its nodes", driver.CapabilityRelease: "hand its nodes over",
}

// planMigration checks a migration on both sides, reading only, and
// resolves what its run needs.
func (s *Service) planMigration(ctx context.Context, req MigrationRequest) (migrationPlan, []PlannedPort, error) {
	target, err := s.migrationTarget(ctx, req.Target)
	if err != nil {
		return migrationPlan{}, nil, err
	}
	p := migrationPlan{TargetBackend: target.Name, Server: req.Server}
	switch {
	case req.Source.Machine != nil && req.Source.Backend == "":
		p.Kind, p.Machine, p.NodeUUID = store.KindInventory, *req.Source.Machine, uuid.NewString()
	case req.Source.Machine == nil && req.Source.Backend != "" && req.Source.NodeUUID != "":
		if err := s.planHandoff(ctx, req, &p); err != nil {
			return migrationPlan{}, nil, err
		}
	default:
		return migrationPlan{}, nil, invalid("source: give either \"machine\" or \"backend\" and \"node_uuid\"")
	}
	if req.Image != "" {
		p.Machine.Image = req.Image
	} else if to, ok := req.ImageMap[p.Machine.Image]; ok {
		p.Machine.Image = to
	}
	if err := s.checkImage(ctx, p.Machine.Image); err != nil {
		return migrationPlan{}, nil, err
	}
	if err := checkSecrets(p.Machine, req.Secrets, p.Kind == store.KindInventory); err != nil {
		return migrationPlan{}, nil, err
	}
	if err := s.checkTargetFree(ctx, target, p.NodeUUID); err != nil {
		return migrationPlan{}, nil, err
	}
	ports, err := s.planPorts(ctx, &p, req.NetworkMap)
	if err != nil {
		return migrationPlan{}, nil, err
	}
	// The target's own checks (a name or a MAC it already has), where its
	// driver can make them without enrolling.
	check := driver.EnrollRequest{NodeUUID: p.NodeUUID, Machine: p.Machine, Secrets: secretsOf(p.Machine, req.Secrets)}
	if err := target.Driver.CheckEnroll(ctx, check); err != nil && !errors.Is(err, driver.ErrNotImplemented) {
		return migrationPlan{}, nil, err
	}
	return p, ports, nil
}

// migrationTarget is the backend a migration enrolls into: the one named,
// or the only one that can enroll.
func (s *Service) migrationTarget(ctx context.Context, name string) (Backend, error) {
	if name != "" {
		b, ok := s.backends.byName[name]
		if !ok {
			return Backend{}, invalid(fmt.Sprintf("target: unknown backend %q: the backends are %s", name, s.backends.names()))
		}
		info, err := b.Driver.Info(ctx)
		if err != nil {
			return Backend{}, err
		}
		if !slices.Contains(info.Capabilities, driver.CapabilityEnroll) {
			return Backend{}, backendCapability(driver.ErrNotImplemented, name, driver.CapabilityEnroll)
		}
		return b, nil
	}
	var able []Backend
	for _, b := range s.backends.list {
		if info, err := b.Driver.Info(ctx); err == nil && slices.Contains(info.Capabilities, driver.CapabilityEnroll) {
			able = append(able, b)
		}
	}
	if len(able) != 1 {
		return Backend{}, invalid(fmt.Sprintf("target: name the backend to migrate into (%d of the backends %s can enroll)", len(able), s.backends.names()))
	}
	return able[0], nil
}

// planHandoff reads the source node as its backend exports it and checks
// it can be handed over: it exists, is active, not associated with an
// instance, not in maintenance, not protected.
func (s *Service) planHandoff(ctx context.Context, req MigrationRequest, p *migrationPlan) error {
	src, ok := s.backends.byName[req.Source.Backend]
	if !ok {
		return invalid(fmt.Sprintf("source: unknown backend %q: the backends are %s", req.Source.Backend, s.backends.names()))
	}
	if src.Name == p.TargetBackend {
		return invalid("source and target are the same backend " + src.Name)
	}
	info, err := src.Driver.Info(ctx)
	if err != nil {
		return err
	}
	for _, c := range []string{driver.CapabilityExport, driver.CapabilityRelease} {
		if !slices.Contains(info.Capabilities, c) {
			return backendCapability(driver.ErrNotImplemented, src.Name, c)
		}
	}
	exp, err := src.Driver.ExportNode(ctx, req.Source.NodeUUID)
	if err != nil {
		return backendCapability(err, src.Name, driver.CapabilityExport)
	}
	node := req.Source.NodeUUID
	switch {
	case exp.State.InstanceUUID != "":
		return driver.NotManageable(node, fmt.Sprintf("it is associated with instance %s in backend %q: delete or unmanage the instance in the source cloud first", exp.State.InstanceUUID, src.Name))
	case exp.State.ProvisionState != "active":
		return driver.NotManageable(node, fmt.Sprintf("its provision state in backend %q is %s, not active", src.Name, orNone(exp.State.ProvisionState)))
	case exp.Maintenance:
		return driver.NotManageable(node, fmt.Sprintf("it is in maintenance in backend %q", src.Name))
	case exp.Protected:
		return driver.NotManageable(node, fmt.Sprintf("it is protected in backend %q: lift its protection there first", src.Name))
	}
	p.Kind, p.SourceBackend, p.NodeUUID, p.Machine = store.KindHandoff, src.Name, node, exp.Machine
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// checkImage refuses an image Glance does not know (a URL is taken as it
// is; without Glance, anything).
func (s *Service) checkImage(ctx context.Context, image string) error {
	if s.images == nil || image == "" || !uuidLike.MatchString(image) {
		return nil
	}
	found, err := s.images.Existing(ctx, []string{image})
	if err != nil {
		return upstreamError(err)
	}
	if !found[image] {
		return invalid(fmt.Sprintf("image %s is not in Glance: upload it first, or name another with \"image\" or \"image_map\"", image))
	}
	return nil
}

// checkSecrets wants a value for every secret the machine names; for a
// described machine (strict) no other, a typo's guard. A handoff's source
// says which fields it masks only once exported: the secrets the operator
// gives beyond those are not used (the driver gets the machine's own).
func checkSecrets(m driver.Machine, secrets map[string]string, strict bool) error {
	for _, name := range m.Secrets {
		if _, ok := secrets[name]; !ok {
			return invalid(fmt.Sprintf("machine %q: secrets: no value for driver_info field %q (give it in \"secrets\"; the CLI reads it from the secrets file)", m.Name, name))
		}
	}
	if !strict {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(secrets)) {
		if !slices.Contains(m.Secrets, name) {
			return invalid(fmt.Sprintf("machine %q: secrets: %q is not one of the machine's secrets (%s)", m.Name, name, strings.Join(m.Secrets, ", ")))
		}
	}
	return nil
}

// secretsOf are the secrets the driver gets: the machine's own.
func secretsOf(m driver.Machine, secrets map[string]string) map[string]string {
	if secrets == nil {
		return nil
	}
	out := make(map[string]string, len(m.Secrets))
	for _, name := range m.Secrets {
		out[name] = secrets[name]
	}
	return out
}

// checkTargetFree refuses a node uuid the target already has.
func (s *Service) checkTargetFree(ctx context.Context, target Backend, node string) error {
	states, err := target.Driver.GetNodeStates(ctx, []string{node})
	if errors.Is(err, driver.ErrNotImplemented) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, st := range states {
		if st.NodeUUID == node && st.Exists {
			return driver.Conflict("backend %q already has a node %s: a migration keeps the node's uuid, so the target must not have it", target.Name, node)
		}
	}
	return nil
}

// planPorts resolves each NIC's network (its own, or the network map's for
// a handoff) and finds or plans its Neutron port: an existing port with
// the MAC on that network is reused; one on another network, or a fixed
// IP held by another MAC, is a conflict.
func (s *Service) planPorts(ctx context.Context, p *migrationPlan, networkMap map[string]string) ([]PlannedPort, error) {
	var out []PlannedPort
	p.Networks = map[string]string{}
	for i, port := range p.Machine.Ports {
		network := port.Network
		if p.Kind == store.KindHandoff {
			network = mappedNetwork(port, networkMap)
			if network == "" {
				return nil, invalid(fmt.Sprintf("network_map: no target network for port %s (network %q, physical_network %q): map one of them, or \"*\"",
					port.MAC, port.Network, port.PhysicalNetwork))
			}
		}
		if network == "" {
			continue
		}
		if s.networks == nil {
			return nil, invalid(fmt.Sprintf("machine %q: ports[%d]: a network is named but [neutron] is not configured", p.Machine.Name, i))
		}
		net, err := s.networks.ResolveNetwork(ctx, network)
		switch {
		case errors.Is(err, neutron.ErrNetworkNotFound), errors.Is(err, neutron.ErrNetworkAmbiguous):
			return nil, invalid(fmt.Sprintf("machine %q: ports[%d].network: %v", p.Machine.Name, i, err))
		case err != nil:
			return nil, upstreamError(err)
		}
		planned := PlannedPort{MAC: port.MAC, NetworkID: net.ID, FixedIPs: port.FixedIPs}
		existing, err := s.networks.PortsByMAC(ctx, port.MAC)
		if err != nil {
			return nil, upstreamError(err)
		}
		for _, e := range existing {
			if e.NetworkID != net.ID {
				return nil, driver.Conflict("MAC %s is already on Neutron port %s of network %s, not on %s", port.MAC, e.ID, e.NetworkID, net.ID)
			}
			planned.PortID = e.ID
		}
		for _, ip := range port.FixedIPs {
			holders, err := s.networks.PortsByFixedIP(ctx, net.ID, ip)
			if err != nil {
				return nil, upstreamError(err)
			}
			for _, h := range holders {
				if !strings.EqualFold(h.MACAddress, port.MAC) {
					return nil, driver.Conflict("IP address %s on network %s is held by Neutron port %s with MAC %s, not %s",
						ip, net.ID, h.ID, h.MACAddress, port.MAC)
				}
			}
		}
		p.Networks[port.MAC] = net.ID
		out = append(out, planned)
	}
	return out, nil
}

// mappedNetwork is a source port's target network: the network map's
// entry for its network, else for its physical network, else "*".
func mappedNetwork(port driver.MachinePort, m map[string]string) string {
	for _, key := range []string{port.Network, port.PhysicalNetwork, "*"} {
		if to, ok := m[key]; ok && key != "" {
			return to
		}
	}
	return ""
}

func invalid(msg string) error { return &refusal{kind: ErrInvalidArgument, msg: msg} }

// migrationView is a stored migration as the API shows it.
func (s *Service) migrationView(m store.Migration) Migration {
	v := Migration{UUID: m.UUID, Status: m.Status, Kind: m.Kind, SourceBackend: m.SourceBackend, TargetBackend: m.TargetBackend,
		NodeUUID: m.NodeUUID, ServerUUID: m.ServerUUID, RequestID: m.RequestID, Error: m.Error,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
	var req MigrationRequest
	if json.Unmarshal(m.Request, &req) == nil && req.Source.Machine != nil {
		v.SourceMachine = req.Source.Machine.Name
	}
	for _, st := range m.Steps {
		v.Steps = append(v.Steps, MigrationStep{Name: st.Name, Status: stepStatus(st), StartedAt: st.StartedAt,
			FinishedAt: st.FinishedAt, Error: st.Error})
	}
	if v.Status == store.MigrationPending && len(v.Steps) > 0 {
		v.Status = store.MigrationRunning
	}
	return v
}

// stepStatus is a recorded step's status for a human (a log written
// before statuses were says begun).
func stepStatus(st store.Step) string {
	if st.Status == "" {
		return store.StepBegun
	}
	return st.Status
}
