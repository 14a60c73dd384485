// Package workflow runs the steps of a journaled workflow (an adoption, a
// release, a migration) from one table of step kinds. A kind is declared
// once — its name in the intent log, its typed data, do, undo, and decide
// (what a repair does with it) — and execution, rollback, the repair pass,
// the reconciler and `recover --dry-run` all walk the same declarations;
// nothing else switches on step names.
//
// Every step is recorded in the journal before it acts, and every record
// is fenced: the journal refuses it (ErrFenced) once another process has
// taken the intent over, and from then on a run touches nothing more — it
// neither acts nor undoes.
package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// ErrFenced: the intent is no longer this run's (another replica took it
// over, or it is gone). The run stops without undoing anything: the new
// holder repairs the intent from what the journal says.
var ErrFenced = store.ErrLeaseLost

// Verdict is what a repair does with an interrupted workflow.
type Verdict int

const (
	// Undo: nothing the workflow did is committed; roll every step back.
	Undo Verdict = iota
	// Finish: the workflow is committed; only forward (resume each step,
	// then complete).
	Finish
	// Leave: what happened cannot be told now (a backend is down); the
	// reconciler asks again later.
	Leave
)

func (v Verdict) String() string {
	switch v {
	case Finish:
		return "finish"
	case Leave:
		return "leave"
	}
	return "undo"
}

// Spec declares a kind of step whose data is a D, run against an
// environment E (what the steps act on: the service, the intent).
type Spec[E, D any] struct {
	// Name is the step's name in the journal; it never changes once
	// released, since older journals are repaired by it.
	Name string
	// Do acts. It may fill in d (an id it created): the journal records d
	// as Do left it. It must be idempotent, since a repair that finishes
	// the workflow runs it again (unless Resume says otherwise).
	Do func(ctx context.Context, env E, d *D) error
	// Undo reverses Do, whether or not Do acted; nil: nothing to undo.
	Undo func(ctx context.Context, env E, d D) error
	// Decide says, reading only, what a repair must do given this step:
	// Finish when the step committed the workflow, Leave when it cannot
	// tell, Undo otherwise; why is for a human. Nil decides Undo.
	Decide func(ctx context.Context, env E, d D) (v Verdict, why string, err error)
	// Resume is what a repair that finishes the workflow runs for this
	// step; nil runs Do again.
	Resume func(ctx context.Context, env E, d D) error
}

// Kind is a declared kind of step.
type Kind[E, D any] struct{ spec Spec[E, D] }

// Declare returns the kind spec declares.
func Declare[E, D any](spec Spec[E, D]) *Kind[E, D] { return &Kind[E, D]{spec: spec} }

// Name is the step's name in the journal.
func (k *Kind[E, D]) Name() string { return k.spec.Name }

// entry is a kind seen through the journal's raw data, for the walks that
// meet steps of every kind (rollback, decide, resume).
type entry[E any] interface {
	Name() string
	undoRaw(ctx context.Context, env E, data json.RawMessage) error
	decideRaw(ctx context.Context, env E, data json.RawMessage) (Verdict, string, error)
	resumeRaw(ctx context.Context, env E, data json.RawMessage) error
}

func (k *Kind[E, D]) decode(data json.RawMessage) (D, error) {
	var d D
	if len(data) == 0 {
		return d, nil
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return d, fmt.Errorf("step %s: reading its data: %w", k.spec.Name, err)
	}
	return d, nil
}

func (k *Kind[E, D]) undoRaw(ctx context.Context, env E, data json.RawMessage) error {
	if k.spec.Undo == nil {
		return nil
	}
	d, err := k.decode(data)
	if err != nil {
		return err
	}
	return k.spec.Undo(ctx, env, d)
}

func (k *Kind[E, D]) decideRaw(ctx context.Context, env E, data json.RawMessage) (Verdict, string, error) {
	if k.spec.Decide == nil {
		return Undo, "", nil
	}
	d, err := k.decode(data)
	if err != nil {
		return Leave, "", err
	}
	return k.spec.Decide(ctx, env, d)
}

func (k *Kind[E, D]) resumeRaw(ctx context.Context, env E, data json.RawMessage) error {
	d, err := k.decode(data)
	if err != nil {
		return err
	}
	if k.spec.Resume != nil {
		return k.spec.Resume(ctx, env, d)
	}
	return k.spec.Do(ctx, env, &d)
}

// Table is every kind of step, by name.
type Table[E any] struct{ kinds map[string]entry[E] }

// Entry is a kind for NewTable.
type Entry[E any] interface{ entry[E] }

// NewTable makes the table of kinds. Two kinds with one name are a
// programming error.
func NewTable[E any](kinds ...Entry[E]) *Table[E] {
	t := &Table[E]{kinds: map[string]entry[E]{}}
	for _, k := range kinds {
		if _, dup := t.kinds[k.Name()]; dup {
			panic("workflow: two step kinds named " + k.Name())
		}
		t.kinds[k.Name()] = k
	}
	return t
}

func (t *Table[E]) kind(name string) (entry[E], error) {
	k, ok := t.kinds[name]
	if !ok {
		return nil, fmt.Errorf("the journal holds a step %q this mogan-api does not know (written by a newer one?)", name)
	}
	return k, nil
}

// Journal records a run's steps, fenced.
type Journal interface {
	// Save records the steps; ErrFenced when the intent is no longer the
	// run's.
	Save(ctx context.Context, steps []store.Step) error
}

// ForwardJournal is a Journal that may refuse a step going forward while
// it still records undos (a cancelled migration); Do and Ensure use it
// when the journal has it.
type ForwardJournal interface {
	Journal
	SaveForward(ctx context.Context, steps []store.Step) error
}

// saveForward records steps going forward.
func (r *Run[E]) saveForward(ctx context.Context, steps []store.Step) error {
	if fj, ok := r.journal.(ForwardJournal); ok {
		return fj.SaveForward(ctx, steps)
	}
	return r.journal.Save(ctx, steps)
}

// Run is one workflow in progress (or being repaired): its environment,
// its journal and the steps recorded so far.
type Run[E any] struct {
	table   *Table[E]
	env     E
	journal Journal
	steps   []store.Step
	now     func() time.Time
}

// NewRun starts (or, with the steps read back from the journal, resumes)
// a run.
func NewRun[E any](table *Table[E], env E, journal Journal, steps []store.Step) *Run[E] {
	return &Run[E]{table: table, env: env, journal: journal, steps: append([]store.Step(nil), steps...), now: time.Now}
}

// Steps are the steps recorded so far.
func (r *Run[E]) Steps() []store.Step { return append([]store.Step(nil), r.steps...) }

// Env is what the run's steps act on.
func (r *Run[E]) Env() E { return r.env }

func (r *Run[E]) stamp() *time.Time {
	t := r.now().UTC().Truncate(store.TimePrecision)
	return &t
}

// Do records a step of kind k with data d (marking the previous step
// done), then acts; it returns d as Do left it. When Do fails the step is
// marked failed at the next record. ErrFenced: the step was not recorded
// and nothing acted.
func Do[E, D any](ctx context.Context, r *Run[E], k *Kind[E, D], d D) (D, error) {
	data, err := json.Marshal(d)
	if err != nil {
		return d, fmt.Errorf("step %s: %w", k.spec.Name, err)
	}
	steps := r.markLast(store.StepDone, "")
	steps = append(steps, store.Step{Name: k.spec.Name, Data: data, Status: store.StepBegun, StartedAt: r.stamp()})
	if err := r.saveForward(ctx, steps); err != nil {
		return d, fmt.Errorf("recording step %s: %w", k.spec.Name, err)
	}
	r.steps = steps
	if err := k.spec.Do(ctx, r.env, &d); err != nil {
		r.steps = r.markLast(store.StepFailed, err.Error())
		return d, err
	}
	if after, err := json.Marshal(d); err == nil && string(after) != string(data) {
		// What Do filled in (an id it created) is what its undo needs:
		// recorded before anything else happens.
		r.steps[len(r.steps)-1].Data = after
		if err := r.journal.Save(ctx, r.steps); err != nil {
			return d, fmt.Errorf("recording step %s: %w", k.spec.Name, err)
		}
	}
	return d, nil
}

// markLast returns the steps with the last one (if begun) given a status.
func (r *Run[E]) markLast(status, msg string) []store.Step {
	steps := append([]store.Step(nil), r.steps...)
	if n := len(steps); n > 0 && (steps[n-1].Status == store.StepBegun || steps[n-1].Status == "") {
		steps[n-1].Status, steps[n-1].FinishedAt, steps[n-1].Error = status, r.stamp(), msg
	}
	return steps
}

// Completed marks the last step done (for a journal read back by a
// human: the run's end is recorded with it by the caller).
func (r *Run[E]) Completed() []store.Step {
	r.steps = r.markLast(store.StepDone, "")
	return r.Steps()
}

// Rollback undoes the recorded steps in reverse, each undo recorded
// before it acts, and stops at the first failure (a rollback cut short is
// run again: undos are idempotent). ErrFenced: the run lost the intent
// and stopped undoing.
func (r *Run[E]) Rollback(ctx context.Context) error {
	r.steps = r.markLast(store.StepFailed, "")
	for i := len(r.steps) - 1; i >= 0; i-- {
		st := r.steps[i]
		if st.Status == store.StepUndone {
			continue
		}
		k, err := r.table.kind(st.Name)
		if err != nil {
			return err
		}
		steps := r.Steps()
		steps[i].Status = store.StepUndoing
		if err := r.journal.Save(ctx, steps); err != nil {
			return fmt.Errorf("recording the undo of step %s: %w", st.Name, err)
		}
		r.steps = steps
		if err := k.undoRaw(ctx, r.env, st.Data); err != nil {
			r.steps[i].Error = "undo: " + err.Error()
			return err
		}
		r.steps[i].Status, r.steps[i].FinishedAt = store.StepUndone, r.stamp()
	}
	return nil
}

// Decision is what a repair does with a run, and why.
type Decision struct {
	Verdict Verdict
	Why     string
}

// Decide walks the recorded steps, reading only, and says what a repair
// does: Leave if any step cannot tell, else Finish if any step committed
// the workflow, else start (the workflow's own verdict before any step:
// Undo for an adoption, Finish for a release).
func (r *Run[E]) Decide(ctx context.Context, start Decision) (Decision, error) {
	out := start
	for _, st := range r.steps {
		if st.Status == store.StepUndone {
			continue
		}
		k, err := r.table.kind(st.Name)
		if err != nil {
			return Decision{Verdict: Leave, Why: err.Error()}, err
		}
		v, why, err := k.decideRaw(ctx, r.env, st.Data)
		if err != nil {
			return Decision{Verdict: Leave, Why: err.Error()}, err
		}
		switch {
		case v == Leave:
			return Decision{Verdict: Leave, Why: why}, nil
		case v == Finish && out.Verdict != Finish:
			out = Decision{Verdict: Finish, Why: why}
		case v == Undo && out.Verdict == Undo && why != "":
			out.Why = why
		}
	}
	return out, nil
}

// Resume runs, in order, what a repair that finishes the workflow runs
// for each recorded step (its Resume, or Do again).
func (r *Run[E]) Resume(ctx context.Context) error {
	for _, st := range r.steps {
		k, err := r.table.kind(st.Name)
		if err != nil {
			return err
		}
		if err := k.resumeRaw(ctx, r.env, st.Data); err != nil {
			return err
		}
	}
	return nil
}

// Has reports whether a step of kind k was recorded.
func Has[E, D any](r *Run[E], k *Kind[E, D]) bool {
	for _, st := range r.steps {
		if st.Name == k.spec.Name {
			return true
		}
	}
	return false
}

// Recorded returns the data of every recorded step of kind k, in order.
func Recorded[E, D any](r *Run[E], k *Kind[E, D]) ([]D, error) {
	var out []D
	for _, st := range r.steps {
		if st.Name != k.spec.Name {
			continue
		}
		d, err := k.decode(st.Data)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// IsFenced reports whether err says the run lost its intent.
func IsFenced(err error) bool { return errors.Is(err, ErrFenced) }

// Ensure runs a step of kind k for a workflow that resumes (a
// migration): when a recorded step of kind k matches (same), its data is
// what it recorded and, unless it is done, Do runs again on it in place
// (Do is idempotent); otherwise it is Do for d, recorded as a new step.
// It returns the step's data as Do left it. save records steps going
// forward (a journal may refuse them: cancelled, fenced).
func Ensure[E, D any](ctx context.Context, r *Run[E], k *Kind[E, D], same func(D) bool, d D) (D, error) {
	for i, st := range r.steps {
		if st.Name != k.spec.Name || st.Status == store.StepUndone {
			continue
		}
		got, err := k.decode(st.Data)
		if err != nil {
			return d, err
		}
		if !same(got) {
			continue
		}
		if st.Status == store.StepDone {
			return got, nil
		}
		return again(ctx, r, k, i, got)
	}
	return Do(ctx, r, k, d)
}

// again runs recorded step i of kind k once more, in place: recorded
// begun again before it acts, its data updated as Do leaves it.
func again[E, D any](ctx context.Context, r *Run[E], k *Kind[E, D], i int, d D) (D, error) {
	steps := r.Steps()
	steps[i].Status, steps[i].StartedAt, steps[i].FinishedAt, steps[i].Error = store.StepBegun, r.stamp(), nil, ""
	if err := r.saveForward(ctx, steps); err != nil {
		return d, fmt.Errorf("recording step %s: %w", k.spec.Name, err)
	}
	r.steps = steps
	if err := k.spec.Do(ctx, r.env, &d); err != nil {
		r.steps[i].Status, r.steps[i].FinishedAt, r.steps[i].Error = store.StepFailed, r.stamp(), err.Error()
		return d, err
	}
	if data, err := json.Marshal(d); err == nil {
		r.steps[i].Data = data
	}
	r.steps[i].Status, r.steps[i].FinishedAt = store.StepDone, r.stamp()
	if err := r.journal.Save(ctx, r.steps); err != nil {
		return d, fmt.Errorf("recording step %s: %w", k.spec.Name, err)
	}
	return d, nil
}
