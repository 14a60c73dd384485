package manage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/host/internal/workflow"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// The steps of a migration (DESIGN, "Migration"), in the one step table.
// A migration resumes after a crash or a takeover: each step's decide says
// Finish (go on from here) unless what it needs is gone (the secrets of a
// node not created yet: Undo) or cannot be told (Leave).
const (
	stepNeutronPort   = "neutron_port"   // the target's Neutron port of one NIC, created or reused
	stepHoldSource    = "hold_source"    // the source node in maintenance, held by the migration
	stepEnroll        = "enroll"         // the node created in the target and taken to active and protected
	stepReleaseSource = "release_source" // the commit: the source node deleted; forward only from here
	stepAdopt         = "adopt"          // the adoption of "The manage workflow", as a server
)

// portData is a neutron_port step's data.
type portData struct {
	MAC       string   `json:"mac"`
	NetworkID string   `json:"network_id"`
	FixedIPs  []string `json:"fixed_ips,omitempty"`
	PortID    string   `json:"port_id,omitempty"`
	// Created: the migration created the port (its undo deletes it); a
	// reused one is left as it was.
	Created bool `json:"created,omitempty"`
}

// nodeData is the data of the steps acting on a node of a backend.
type nodeData struct {
	Backend  string `json:"backend"`
	NodeUUID string `json:"node_uuid"`
}

// adoptData is the adopt step's data: the server it made.
type adoptData struct {
	ServerUUID string `json:"server_uuid,omitempty"`
}

// migrationKinds are the migration's kinds of step.
type migrationKinds struct {
	port    *workflow.Kind[*job, portData]
	hold    *workflow.Kind[*job, nodeData]
	enroll  *workflow.Kind[*job, nodeData]
	release *workflow.Kind[*job, nodeData]
	adopt   *workflow.Kind[*job, adoptData]
}

// resume is the decide of a step a migration simply carries on from.
func resume[D any](context.Context, *job, D) (workflow.Verdict, string, error) {
	return workflow.Finish, "the migration carries on", nil
}

func declareMigrationSteps() migrationKinds {
	return migrationKinds{
		port: workflow.Declare(workflow.Spec[*job, portData]{
			Name:   stepNeutronPort,
			Do:     func(ctx context.Context, j *job, d *portData) error { return j.ensurePort(ctx, d) },
			Undo:   func(ctx context.Context, j *job, d portData) error { return j.removePort(ctx, d) },
			Decide: resume[portData],
		}),
		hold: workflow.Declare(workflow.Spec[*job, nodeData]{
			Name: stepHoldSource,
			Do: func(ctx context.Context, j *job, d *nodeData) error {
				drv, err := j.s.driverOf(d.Backend)
				if err != nil {
					return err
				}
				return drv.HoldNode(ctx, j.in.ServerUUID, d.NodeUUID)
			},
			Undo: func(ctx context.Context, j *job, d nodeData) error {
				drv, err := j.s.driverOf(d.Backend)
				if err != nil {
					return err
				}
				return drv.UnholdNode(ctx, j.in.ServerUUID, d.NodeUUID)
			},
			Decide: resume[nodeData],
		}),
		enroll: workflow.Declare(workflow.Spec[*job, nodeData]{
			Name: stepEnroll,
			Do:   func(ctx context.Context, j *job, d *nodeData) error { return j.enroll(ctx, *d) },
			Undo: func(ctx context.Context, j *job, d nodeData) error {
				drv, err := j.s.driverOf(d.Backend)
				if err != nil {
					return err
				}
				return drv.DeleteEnrolled(ctx, j.in.ServerUUID, d.NodeUUID)
			},
			Decide: func(ctx context.Context, j *job, d nodeData) (workflow.Verdict, string, error) {
				if j.mig.secrets != nil {
					return workflow.Finish, "the migration carries on", nil
				}
				exists, err := j.nodeExists(ctx, d)
				switch {
				case err != nil:
					return workflow.Leave, err.Error(), err
				case exists:
					return workflow.Finish, "the node exists in the target: the migration carries on", nil
				}
				return workflow.Undo, "the node was not created before the migration was interrupted, and its secrets are kept nowhere", nil
			},
		}),
		release: workflow.Declare(workflow.Spec[*job, nodeData]{
			Name: stepReleaseSource,
			Do: func(ctx context.Context, j *job, d *nodeData) error {
				drv, err := j.s.driverOf(d.Backend)
				if err != nil {
					return err
				}
				return drv.ReleaseNode(ctx, j.in.ServerUUID, d.NodeUUID)
			},
			// No undo: a deletion cannot be undone (and the secrets are
			// gone). Once recorded, only forward.
			Decide: func(context.Context, *job, nodeData) (workflow.Verdict, string, error) {
				return workflow.Finish, "the commit is recorded: only forward", nil
			},
		}),
		adopt: workflow.Declare(workflow.Spec[*job, adoptData]{
			Name:   stepAdopt,
			Do:     func(ctx context.Context, j *job, d *adoptData) error { return j.adoptMigrated(ctx, d) },
			Decide: resume[adoptData],
		}),
	}
}

// migrationJob is what a migration's job carries beyond an intent's: the
// migration, its plan, and its secrets (in this process's memory only:
// never stored, logged or answered).
type migrationJob struct {
	m       store.Migration
	plan    migrationPlan
	secrets map[string]string
	// caller is who asked, for the adoption's record and notifications.
	caller Caller
}

// ensurePort makes the Neutron port of one NIC: the one with its MAC on its
// network when there is one (reused), else a new one with its fixed IPs.
func (j *job) ensurePort(ctx context.Context, d *portData) error {
	if j.s.networks == nil {
		return fmt.Errorf("port %s needs a Neutron port but [neutron] is not configured", d.MAC)
	}
	existing, err := j.s.networks.PortsByMAC(ctx, d.MAC)
	if err != nil {
		return upstreamError(err)
	}
	for _, p := range existing {
		if p.NetworkID == d.NetworkID {
			// Reused, or ours: created before a crash that came before
			// the step recorded it (its name says so; the undo deletes it).
			d.PortID, d.Created = p.ID, d.Created || p.Name == j.portName()
			return nil
		}
	}
	if len(existing) > 0 {
		return driver.Conflict("MAC %s is already on Neutron port %s of network %s, not on network %s",
			d.MAC, existing[0].ID, existing[0].NetworkID, d.NetworkID)
	}
	p, err := j.s.networks.CreatePort(ctx, j.portName(), d.NetworkID, d.MAC, d.FixedIPs)
	if errors.Is(err, neutron.ErrAddressInUse) {
		return driver.Conflict("%s", err.Error())
	}
	if err != nil {
		return upstreamError(err)
	}
	d.PortID, d.Created = p.ID, true
	return nil
}

// portName names the Neutron ports a migration creates, so that one made
// before a crash is known as its own.
func (j *job) portName() string { return "mogan-migration-" + j.in.ServerUUID }

// removePort deletes a port the migration created.
func (j *job) removePort(ctx context.Context, d portData) error {
	if d.PortID != "" && !d.Created {
		return nil // reused: left as it was
	}
	if d.PortID == "" {
		// Recorded before Neutron answered: the port, if it was made,
		// carries the MAC on the network and the migration's name.
		ports, err := j.s.networks.PortsByMAC(ctx, d.MAC)
		if err != nil {
			return upstreamError(err)
		}
		for _, p := range ports {
			if p.NetworkID == d.NetworkID && p.Name == j.portName() {
				d.PortID = p.ID
			}
		}
		if d.PortID == "" {
			return nil
		}
	}
	if err := j.s.networks.DeletePort(ctx, d.PortID); err != nil {
		return upstreamError(err)
	}
	return nil
}

// enroll calls EnrollNode until the node is active and protected, an
// error, a cancel, or [migration] enroll_timeout.
func (j *job) enroll(ctx context.Context, d nodeData) error {
	drv, err := j.s.driverOf(d.Backend)
	if err != nil {
		return err
	}
	if j.mig.secrets == nil && len(j.mig.plan.Machine.Secrets) > 0 {
		if exists, err := j.nodeExists(ctx, d); err != nil || !exists {
			return errors.Join(err, errors.New("the migration was interrupted before its node was created, and its secrets are kept nowhere: migrate it again"))
		}
	}
	req := driver.EnrollRequest{MigrationID: j.in.ServerUUID, NodeUUID: d.NodeUUID, Machine: j.mig.plan.Machine, Secrets: j.mig.secrets}
	deadline := j.s.now().Add(j.s.migration.EnrollTimeout)
	wait := enrollPollMin
	last := ""
	for {
		st, err := drv.EnrollNode(ctx, req)
		if err != nil {
			return err
		}
		if st.Done {
			return nil
		}
		if st.ProvisionState != last {
			last, wait = st.ProvisionState, enrollPollMin // moving: ask again soon
			continue
		}
		if j.s.now().After(deadline) {
			return fmt.Errorf("node %s is still %s after [migration] enroll_timeout (%s)", d.NodeUUID, st.ProvisionState, j.s.migration.EnrollTimeout)
		}
		if cancelled, err := j.s.store.CancelRequested(ctx, j.in); err != nil || cancelled {
			return errors.Join(err, cancelledErr(cancelled))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, enrollPollMax)
	}
}

// The pace of EnrollNode calls while the node waits in a state (Ironic's
// verifying and adopting take a moment each).
const (
	enrollPollMin = 100 * time.Millisecond
	enrollPollMax = 2 * time.Second
)

func cancelledErr(cancelled bool) error {
	if !cancelled {
		return nil
	}
	return fmt.Errorf("%w (DELETE /v1/migrations)", store.ErrCancelled)
}

// nodeExists asks the backend whether the node exists.
func (j *job) nodeExists(ctx context.Context, d nodeData) (bool, error) {
	drv, err := j.s.driverOf(d.Backend)
	if err != nil {
		return false, err
	}
	states, err := drv.GetNodeStates(ctx, []string{d.NodeUUID})
	if err != nil {
		return false, fmt.Errorf("reading node %s in backend %q: %w", d.NodeUUID, d.Backend, err)
	}
	for _, st := range states {
		if st.NodeUUID == d.NodeUUID && st.Exists {
			return true, nil
		}
	}
	return false, nil
}

// adoptMigrated adopts the migrated node as the server the migration asks
// for (the adoption of "The manage workflow", with its interlock), under
// the migration's request id; one adopted already (by this migration, before
// a crash) is the answer.
func (j *job) adoptMigrated(ctx context.Context, d *adoptData) error {
	p := j.mig.plan
	srv, err := j.settledServerOf(ctx, p.NodeUUID)
	switch {
	case err == nil:
		if d.ServerUUID == "" || srv.UUID == d.ServerUUID {
			d.ServerUUID = srv.UUID
			return nil
		}
	case !errors.Is(err, store.ErrNotFound):
		return storeError(err)
	}
	req := Request{
		Name: p.Server.Name, Description: p.Server.Description, Metadata: p.Server.Metadata,
		NodeUUID: p.NodeUUID, Backend: p.TargetBackend, ProjectID: p.Server.ProjectID, UserID: p.Server.UserID,
		Caller: j.mig.caller, migration: j.in.ServerUUID,
	}
	if req.ProjectID == "" {
		req.ProjectID = j.mig.caller.ProjectID
	}
	if req.UserID == "" {
		req.UserID = j.mig.caller.UserID
	}
	adopted, err := j.s.Adopt(ctx, req)
	if err != nil {
		return err
	}
	d.ServerUUID = adopted.UUID
	return nil
}

// settledServerOf returns the server of the node once no adoption of it is
// in flight. An adoption interrupted with this migration's host (its
// server row written, its intent open) is not the answer: the repair pass
// completes or rolls it back, and this waits for that verdict rather than
// call a half-made server adopted.
func (j *job) settledServerOf(ctx context.Context, nodeUUID string) (store.Server, error) {
	wait := enrollPollMin
	for {
		srv, err := j.s.store.ServerByNode(ctx, nodeUUID)
		if err != nil {
			return store.Server{}, err
		}
		_, err = j.s.store.GetIntent(ctx, srv.UUID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return srv, nil
		case err != nil:
			return store.Server{}, err
		}
		select {
		case <-ctx.Done():
			return store.Server{}, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, enrollPollMax)
	}
}
