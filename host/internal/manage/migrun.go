package manage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/mogan-manage/mogan-manage/host/internal/notify"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/host/internal/workflow"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// The running of migrations: at most [migration] max_concurrent at once
// in this replica, the others pending; each under its intent's lease and
// fence, as adoptions are. A migration this replica took over (its owner
// died) resumes from its journal.

// The notification events of a migration.
const (
	eventMigrationStart = "migration.start"
	eventMigrationEnd   = "migration.end"
	eventMigrationError = "migration.error"
)

// migrationRunner runs the migrations this replica holds.
type migrationRunner struct {
	run  func(j *job)
	slot chan struct{}
	mu   sync.Mutex
	wg   sync.WaitGroup
	ctx  context.Context
}

func newMigrationRunner(maxConcurrent int, run func(j *job)) *migrationRunner {
	return &migrationRunner{run: run, slot: make(chan struct{}, maxConcurrent), ctx: context.Background()}
}

// start runs j in the background once a slot is free (pending until
// then). Its intent is this process's work meanwhile: its lease is renewed.
func (r *migrationRunner) start(j *job) {
	untrack := j.s.working.track(j.in.ServerUUID)
	r.mu.Lock()
	ctx := r.ctx
	r.mu.Unlock()
	r.wg.Go(func() {
		defer untrack()
		select {
		case r.slot <- struct{}{}:
		case <-ctx.Done():
			return // stopping: the lease runs out and a repair takes it
		}
		defer func() { <-r.slot }()
		r.run(j)
	})
}

// bind gives the runner the process's context: a migration started later
// stops (between steps) when it is done.
func (r *migrationRunner) bind(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ctx = ctx
}

// wait waits for every migration started to stop.
func (r *migrationRunner) wait() { r.wg.Wait() }

// StartMigrations binds the background migrations to ctx (serve calls it
// before the repair pass, which resumes migrations): when ctx is done they
// stop between steps, to be resumed by the next start or another replica.
// The returned func waits until they have.
func (s *Service) StartMigrations(ctx context.Context) (wait func()) {
	s.runner.bind(ctx)
	return s.runner.wait
}

// migrationJobOf is the job of a migration's intent.
func (s *Service) migrationJobOf(in store.Intent, m store.Migration, p migrationPlan, secrets map[string]string, caller Caller) *job {
	j := s.newJob(in, store.Server{})
	j.mig = &migrationJob{m: m, plan: p, secrets: secrets, caller: caller}
	j.log = s.log.With("migration", m.UUID, "node_uuid", m.NodeUUID, "target_backend", m.TargetBackend, "request_id", m.RequestID)
	return j
}

// runMigration carries a migration out (or on, from its journal) to done,
// failed or rolled back.
func (s *Service) runMigration(j *job) {
	ctx := s.runner.ctxNow()
	run := s.run(j)
	if err := s.store.SetMigrationStatus(ctx, j.in, store.MigrationRunning); err != nil {
		s.migrationStopped(ctx, j, err)
		return
	}
	d, err := run.Decide(ctx, workflow.Decision{Verdict: workflow.Finish, Why: "the migration carries on"})
	if err != nil || d.Verdict == workflow.Leave {
		s.migrationStopped(ctx, j, errors.Join(err, errors.New(d.Why)))
		return
	}
	switch {
	case j.in.CancelRequested:
		s.rollBackMigration(ctx, run, cancelledErr(true))
		return
	case rollingBack(j.in.Steps):
		// Its rollback began before the interruption: it goes on.
		s.rollBackMigration(ctx, run, errors.New(orUnknown(j.in.LastError)))
		return
	case d.Verdict == workflow.Undo:
		s.rollBackMigration(ctx, run, errors.New(d.Why))
		return
	}
	err = s.migrationSteps(ctx, run)
	committed := workflow.Has(run, s.migSteps.release)
	adopting := workflow.Has(run, s.migSteps.adopt)
	switch {
	case err == nil:
		s.endMigration(ctx, run, store.MigrationEnd{Status: store.MigrationDone, ServerUUID: j.serverOf(run)}, nil)
	case workflow.IsFenced(err), errors.Is(err, store.ErrUnavailable), ctx.Err() != nil:
		// Taken over, the database lost, or this process stopping: the
		// migration is left as it is, for its next holder to resume.
		s.migrationStopped(ctx, j, err)
	case adopting:
		// The node is active and protected in the target, untouched:
		// failed, and a retry adopts it.
		s.endMigration(ctx, run, store.MigrationEnd{Status: store.MigrationFailed, Error: faultText(err)}, err)
	case committed:
		// After the commit only forward: the reconciler takes it up again.
		j.log.Warn("a migration past its commit failed a step; the reconciler will carry it on", "error", err)
		if serr := s.store.SetIntentState(ctx, j.in, store.IntentRetry, err.Error()); serr != nil {
			s.migrationStopped(ctx, j, serr)
		}
	default:
		s.rollBackMigration(ctx, run, err)
	}
}

// rollingBack reports whether a migration's rollback had begun.
func rollingBack(steps []store.Step) bool {
	for _, st := range steps {
		if st.Status == store.StepUndoing || st.Status == store.StepUndone {
			return true
		}
	}
	return false
}

// ctxNow is the context migrations run under now.
func (r *migrationRunner) ctxNow() context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ctx
}

// migrationSteps runs (or resumes) a migration's steps in order; each is
// skipped when its journal says it is done.
func (s *Service) migrationSteps(ctx context.Context, run *workflow.Run[*job]) error {
	j := run.Env()
	p := j.mig.plan
	k := s.migSteps
	if p.Kind == store.KindHandoff {
		hold := nodeData{Backend: p.SourceBackend, NodeUUID: p.NodeUUID}
		if _, err := ensure(ctx, run, k.hold, hold); err != nil {
			return err
		}
	}
	for i, port := range p.Machine.Ports {
		// A port's VIF in the target is the port made or found there,
		// never the source's (an export names the source cloud's).
		j.mig.plan.Machine.Ports[i].NeutronPortID = ""
		network := p.Networks[port.MAC]
		if network == "" {
			continue
		}
		d, err := workflow.Ensure(ctx, run, k.port, func(d portData) bool { return d.MAC == port.MAC },
			portData{MAC: port.MAC, NetworkID: network, FixedIPs: port.FixedIPs})
		if err != nil {
			return err
		}
		j.mig.plan.Machine.Ports[i].NeutronPortID = d.PortID
	}
	target := nodeData{Backend: p.TargetBackend, NodeUUID: p.NodeUUID}
	if _, err := ensure(ctx, run, k.enroll, target); err != nil {
		return err
	}
	if p.Kind == store.KindHandoff {
		source := nodeData{Backend: p.SourceBackend, NodeUUID: p.NodeUUID}
		if _, err := ensure(ctx, run, k.release, source); err != nil {
			return err
		}
	}
	if p.Server != nil {
		if _, err := workflow.Ensure(ctx, run, k.adopt, func(adoptData) bool { return true }, adoptData{}); err != nil {
			return err
		}
	}
	return nil
}

// ensure runs a node step once.
func ensure(ctx context.Context, run *workflow.Run[*job], k *workflow.Kind[*job, nodeData], d nodeData) (nodeData, error) {
	return workflow.Ensure(ctx, run, k, func(got nodeData) bool { return got == d }, d)
}

// serverOf is the server the adopt step made ("" for none).
func (j *job) serverOf(run *workflow.Run[*job]) string {
	ds, _ := workflow.Recorded(run, j.s.migSteps.adopt)
	if len(ds) == 0 {
		return ""
	}
	return ds[len(ds)-1].ServerUUID
}

// rollBackMigration undoes what the migration did, in reverse — the
// machine exactly as it was — and ends it rolled back, with why.
func (s *Service) rollBackMigration(ctx context.Context, run *workflow.Run[*job], cause error) {
	j := run.Env()
	ctx, cancel := context.WithTimeout(ctx, undoTimeout)
	defer cancel()
	j.log.Info("migration failed before its commit; undoing its steps", "error", cause)
	if err := run.Rollback(ctx); err != nil {
		if workflow.IsFenced(err) || errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.Canceled) {
			s.migrationStopped(ctx, j, err)
			return
		}
		j.log.Error("undoing a migration failed; the reconciler will retry", "error", err)
		j.in.Steps = run.Steps()
		if serr := s.store.SetIntentState(ctx, j.in, store.IntentRetry, fmt.Sprintf("%v; undoing it: %v", cause, err)); serr != nil {
			s.migrationStopped(ctx, j, serr)
		}
		return
	}
	s.endMigration(ctx, run, store.MigrationEnd{Status: store.MigrationRolledBack, Error: faultText(cause)}, cause)
}

// endMigration records how a migration ended, and says so.
func (s *Service) endMigration(ctx context.Context, run *workflow.Run[*job], end store.MigrationEnd, cause error) {
	j := run.Env()
	j.in.Steps = run.Completed()
	if err := s.store.EndMigration(ctx, j.in, end); err != nil {
		s.migrationStopped(ctx, j, err)
		return
	}
	s.metrics.Migration(end.Status)
	for _, st := range j.in.Steps {
		if st.StartedAt != nil && st.FinishedAt != nil && st.Status == store.StepDone {
			s.metrics.MigrationStep(st.Name, st.FinishedAt.Sub(*st.StartedAt))
		}
	}
	j.log.Info("migration ended", "status", end.Status, "server_uuid", end.ServerUUID, "error", end.Error)
	m, err := s.store.GetMigration(ctx, j.in.ServerUUID)
	if err != nil {
		return
	}
	event := eventMigrationEnd
	if end.Status != store.MigrationDone {
		event = eventMigrationError
	}
	s.notifyMigration(ctx, j.mig.caller, event, m, cause)
}

// migrationStopped is a migration this run can no longer carry: another
// replica took it over, or the database is unreachable (its lease runs
// out, and a repair resumes it).
func (s *Service) migrationStopped(_ context.Context, j *job, err error) {
	if workflow.IsFenced(err) {
		j.log.Warn("another replica took this migration over; leaving it to that replica", "error", err)
		return
	}
	j.log.Error("a migration stopped: its lease will run out and a repair carries it on", "error", err)
}

// notifyMigration sends one migration.* event; cause makes it an .error
// with a fault.
func (s *Service) notifyMigration(ctx context.Context, caller Caller, event string, m store.Migration, cause error) {
	n := notify.Notification{
		EventType: event,
		Priority:  notify.Info,
		Context: notify.RequestContext{
			RequestID: m.RequestID, UserID: caller.UserID, ProjectID: caller.ProjectID,
			UserName: caller.UserName, ProjectName: caller.ProjectName, Roles: caller.Roles, IsAdmin: caller.IsAdmin,
		},
	}
	data := map[string]any{
		"uuid": m.UUID, "status": m.Status, "kind": m.Kind, "source_backend": nullable(m.SourceBackend),
		"target_backend": m.TargetBackend, "node_uuid": m.NodeUUID, "server_uuid": nullable(m.ServerUUID),
		"created_at": timeOrNil(&m.CreatedAt), "updated_at": timeOrNil(&m.UpdatedAt),
	}
	if cause != nil {
		n.Priority = notify.Error
		data["fault"] = notify.Fault{Exception: exceptionName(cause), ExceptionMessage: faultText(cause)}
	}
	n.Payload = notify.NewMigrationPayload(data)
	s.notifier.Notify(ctx, n)
}

// resumeMigration carries on a migration intent this replica took over.
func (s *Service) resumeMigration(ctx context.Context, in store.Intent) error {
	m, err := s.store.GetMigration(ctx, in.ServerUUID)
	if err != nil {
		return err
	}
	var p migrationPlan
	if err := json.Unmarshal(m.Plan, &p); err != nil {
		return fmt.Errorf("migration %s: plan: %w", m.UUID, err)
	}
	caller := Caller{RequestID: in.RequestID, UserID: in.UserID, ProjectID: in.ProjectID}
	s.runner.start(s.migrationJobOf(in, m, p, nil, caller))
	return nil
}

// undoLateMigrations undoes what late requests of rolled-back migrations
// left: a target node carrying a migration's marker (DeleteEnrolled acts
// only on such a node) and a source node it still holds (UnholdNode only
// on one held by it). Only tombstoned migrations are looked at.
func (s *Service) undoLateMigrations(ctx context.Context) (int, error) {
	since := s.now().Add(-s.retention)
	if _, err := s.store.PurgeMigrationTombstones(ctx, since); err != nil {
		return 0, err
	}
	ts, err := s.store.MigrationTombstones(ctx, since, syncPage)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, t := range ts {
		if drv, err := s.driverOf(t.TargetBackend); err == nil {
			if err := drv.DeleteEnrolled(ctx, t.MigrationUUID, t.NodeUUID); err != nil && !errors.Is(err, driver.ErrConflict) {
				errs = append(errs, fmt.Errorf("migration %s: target node %s: %w", t.MigrationUUID, t.NodeUUID, err))
			}
		}
		if t.SourceBackend == "" {
			continue
		}
		if drv, err := s.driverOf(t.SourceBackend); err == nil {
			if err := drv.UnholdNode(ctx, t.MigrationUUID, t.NodeUUID); err != nil {
				errs = append(errs, fmt.Errorf("migration %s: source node %s: %w", t.MigrationUUID, t.NodeUUID, err))
			}
		}
	}
	return len(ts), errors.Join(errs...)
}
