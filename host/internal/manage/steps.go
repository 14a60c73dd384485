package manage

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/host/internal/workflow"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// The step table: every kind of step the workflows of this package run,
// declared once with its data, do, undo and decide (DESIGN, "The step
// table"). Adopt, unmanage, the rollback, the repair pass, the reconciler
// and recover --dry-run all go through these declarations.

// Step names as the intent log records them. They never change: an
// intent written by an older mogan-api is repaired by them.
const (
	stepBind    = "bind"    // one Neutron port bound to the node; data: PortBinding
	stepManage  = "manage"  // the driver associates the node; data: manageData
	stepRelease = "release" // the driver releases the node; no data
	stepRestore = "restore" // one Neutron port given its previous binding back; data: store.Binding
)

// manageData is what completing an adoption needs beyond the claimed row,
// recorded with the manage step.
type manageData struct {
	ImageUUID string `json:"image_uuid"`
	NodeName  string `json:"node_name"`
}

// releaseData is the release step's data (none yet: the step is the
// driver's Unmanage of the intent's node and server).
type releaseData struct{}

// job is what the steps of one intent act on: the service, the intent
// (its holder and fence are the journal's), the server's record, and what
// the steps learn on the way.
type job struct {
	s   *Service
	in  store.Intent
	rec store.Server
	log hclog.Logger
	// bound are the ports the bind steps bound, as Neutron answered
	// (their fixed IPs are the server's addresses).
	bound    []neutron.Port
	boundFor []PortBinding
	// state is the node as the driver last reported it (Manage's answer,
	// or GetNodeStates in a repair).
	powerState string
	nodeName   string
	// foreign: the node belongs to another instance now, so a release
	// leaves its Neutron ports alone.
	foreign bool
	// mig is a migration's job: its plan and secrets (nil for an
	// adoption or a release).
	mig *migrationJob
}

// Save records the intent's steps, fenced by its holder.
func (j *job) Save(ctx context.Context, steps []store.Step) error {
	if err := j.s.store.SaveSteps(ctx, j.in, steps); err != nil {
		return err
	}
	j.in.Steps = steps
	return nil
}

// SaveForward records a migration's step going forward: refused
// (store.ErrCancelled) once the migration was asked to stop.
func (j *job) SaveForward(ctx context.Context, steps []store.Step) error {
	if j.mig == nil {
		return j.Save(ctx, steps)
	}
	if err := j.s.store.SaveStepsUnlessCancelled(ctx, j.in, steps); err != nil {
		return err
	}
	j.in.Steps = steps
	return nil
}

// acted runs the test hook after a step has acted.
func (j *job) acted(ctx context.Context, name string) error {
	if j.s.stepHook == nil {
		return nil
	}
	return j.s.stepHook(ctx, name)
}

// stepKinds are the declared kinds, typed, and their table.
type stepKinds struct {
	bind    *workflow.Kind[*job, PortBinding]
	manage  *workflow.Kind[*job, manageData]
	release *workflow.Kind[*job, releaseData]
	restore *workflow.Kind[*job, store.Binding]
	// migration are a migration's kinds.
	migration migrationKinds
	table     *workflow.Table[*job]
}

func declareSteps() stepKinds {
	k := stepKinds{
		bind: workflow.Declare(workflow.Spec[*job, PortBinding]{
			Name: stepBind,
			Do: func(ctx context.Context, j *job, b *PortBinding) error {
				if err := j.bindPort(ctx, *b, false); err != nil {
					return err
				}
				return j.acted(ctx, stepBind)
			},
			Undo: func(ctx context.Context, j *job, b PortBinding) error {
				return j.s.restoreBinding(ctx, b.PortID, b.PrevHostID, b.PrevVNICType)
			},
			// A binding alone commits nothing: the default, undo.
			Resume: func(ctx context.Context, j *job, b PortBinding) error { return j.bindPort(ctx, b, true) },
		}),
		manage: workflow.Declare(workflow.Spec[*job, manageData]{
			Name: stepManage,
			Do: func(ctx context.Context, j *job, d *manageData) error {
				drv, err := j.driver()
				if err != nil {
					return err
				}
				managed, err := drv.Manage(ctx, driver.ManageRequest{NodeUUID: j.in.NodeUUID, ServerUUID: j.in.ServerUUID})
				if err != nil {
					return err
				}
				if !managed.Manageable {
					return driver.NotManageable(j.in.NodeUUID, reasonOr(managed.Reason))
				}
				j.powerState, j.nodeName = managed.PowerState, managed.Name
				return j.acted(ctx, stepManage)
			},
			// Unmanage releases the node only if it names this server, so
			// it is right whether or not the association happened. A
			// driver that does not implement it cannot have associated the
			// node (Manage and Unmanage are one capability): nothing to
			// release, rather than an undo retried for ever.
			Undo: func(ctx context.Context, j *job, _ manageData) error {
				drv, err := j.driver()
				if err != nil {
					return err
				}
				err = drv.Unmanage(ctx, driver.ManageRequest{NodeUUID: j.in.NodeUUID, ServerUUID: j.in.ServerUUID})
				if err != nil && !errors.Is(err, driver.ErrNodeNotFound) && !errors.Is(err, driver.ErrNotImplemented) {
					return fmt.Errorf("releasing node %s: %w", j.in.NodeUUID, err)
				}
				return nil
			},
			// The adoption is committed once the node names the server and
			// the claimed record is still there.
			Decide: func(ctx context.Context, j *job, _ manageData) (workflow.Verdict, string, error) {
				st, ok, err := j.associated(ctx)
				switch {
				case err != nil:
					return workflow.Leave, err.Error(), err
				case ok && j.rec.UUID != "":
					j.powerState = st.PowerState
					return workflow.Finish, "the node names the server", nil
				case ok:
					return workflow.Undo, "the server record is gone", nil
				}
				return workflow.Undo, "the node does not name the server (or the driver cannot say)", nil
			},
			// Decide has read the node: nothing to redo.
			Resume: func(context.Context, *job, manageData) error { return nil },
		}),
		release: workflow.Declare(workflow.Spec[*job, releaseData]{
			Name: stepRelease,
			Do: func(ctx context.Context, j *job, _ *releaseData) error {
				return j.releaseNode(ctx)
			},
			Decide: func(context.Context, *job, releaseData) (workflow.Verdict, string, error) {
				return workflow.Finish, "a release is always finished", nil
			},
		}),
		restore: workflow.Declare(workflow.Spec[*job, store.Binding]{
			Name: stepRestore,
			Do: func(ctx context.Context, j *job, b *store.Binding) error {
				if err := j.s.tombstoneBinding(ctx, b.PortID, j.in.NodeUUID, j.in.Backend, b.PrevHostID, b.PrevVNICType); err != nil {
					return err
				}
				return j.s.restoreBinding(ctx, b.PortID, b.PrevHostID, b.PrevVNICType)
			},
			Decide: func(context.Context, *job, store.Binding) (workflow.Verdict, string, error) {
				return workflow.Finish, "a release is always finished", nil
			},
		}),
	}
	m := declareMigrationSteps()
	k.table = workflow.NewTable[*job](k.bind, k.manage, k.release, k.restore, m.port, m.hold, m.enroll, m.release, m.adopt)
	k.migration = m
	return k
}

// bindPort binds one port to the node, its tombstone recorded first (the
// binding it had before, for the reconciler should this request land
// late), and keeps Neutron's answer for the addresses. Resuming (a repair
// that finishes an adoption), a port deleted since is skipped.
func (j *job) bindPort(ctx context.Context, b PortBinding, resuming bool) error {
	if j.s.networks == nil {
		return fmt.Errorf("port %s is to be bound but [neutron] is no longer configured", b.PortID)
	}
	if err := j.s.tombstoneBinding(ctx, b.PortID, j.in.NodeUUID, j.in.Backend, b.PrevHostID, b.PrevVNICType); err != nil {
		return err
	}
	port, err := j.s.networks.Bind(ctx, b.PortID, j.in.NodeUUID, vnicBaremetal)
	if errors.Is(err, neutron.ErrPortNotFound) && resuming {
		return nil // deleted since: nothing to bind, nothing to show
	}
	if err != nil {
		return upstreamError(err)
	}
	j.bound = append(j.bound, port)
	j.boundFor = append(j.boundFor, b)
	return nil
}

// releaseNode asks the driver to forget the association, after reading
// whether the node still names the server: a node another instance holds
// now keeps its Neutron ports as they are (their bindings are the new
// owner's).
func (j *job) releaseNode(ctx context.Context) error {
	drv, err := j.driver()
	if err != nil {
		return err
	}
	st, err := drv.GetNodeStates(ctx, []string{j.in.NodeUUID})
	switch {
	case errors.Is(err, driver.ErrNotImplemented):
	case err != nil:
		return fmt.Errorf("reading node %s: %w", j.in.NodeUUID, err)
	default:
		for _, s := range st {
			if s.NodeUUID == j.in.NodeUUID && s.Exists && s.InstanceUUID != "" && s.InstanceUUID != j.in.ServerUUID {
				j.foreign = true
				j.log.Warn("the node belongs to another instance now: releasing the server without touching the node or its Neutron ports",
					"instance_uuid", s.InstanceUUID)
			}
		}
	}
	err = drv.Unmanage(ctx, driver.ManageRequest{NodeUUID: j.in.NodeUUID, ServerUUID: j.in.ServerUUID})
	if err != nil && !errors.Is(err, driver.ErrNodeNotFound) {
		return err
	}
	return nil
}

// driver is the driver of the intent's backend: a 409 naming it when it
// is no longer configured.
func (j *job) driver() (driver.Full, error) { return j.s.driverOf(j.in.Backend) }

// associated asks the backend whether the node names the intent's server.
func (j *job) associated(ctx context.Context) (driver.NodeState, bool, error) {
	drv, err := j.driver()
	if err != nil {
		return driver.NodeState{}, false, err
	}
	return associatedWith(ctx, drv, j.in.NodeUUID, j.in.ServerUUID)
}

// newJob is the job of an intent, with its server's record ("" UUID when
// there is none).
func (s *Service) newJob(in store.Intent, rec store.Server) *job {
	return &job{s: s, in: in, rec: rec, nodeName: rec.NodeName, powerState: rec.PowerState,
		log: s.log.With("server_uuid", in.ServerUUID, "node_uuid", in.NodeUUID, "backend", in.Backend, "request_id", in.RequestID)}
}

// run starts or resumes the workflow of a job.
func (s *Service) run(j *job) *workflow.Run[*job] {
	return workflow.NewRun(s.steps.table, j, j, j.in.Steps)
}

// tombstoneBinding records the binding a port had before we touch it, so
// the reconciler can put it right whatever lands late.
func (s *Service) tombstoneBinding(ctx context.Context, portID, nodeUUID, backend, prevHost, prevVNIC string) error {
	if prevVNIC == "" {
		prevVNIC = vnicNormal
	}
	return s.store.SaveBindingTombstone(ctx, store.BindingTombstone{
		PortID: portID, NodeUUID: nodeUUID, Backend: backend, PrevHostID: prevHost, PrevVNICType: prevVNIC, CreatedAt: s.now(),
	})
}
