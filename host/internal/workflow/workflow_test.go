package workflow_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/host/internal/workflow"
)

// world is what the test steps act on: a log of what acted, and faults.
type world struct {
	acted []string
	fail  map[string]error // a step's do (by "name:data") fails with it
	// verdicts is what decide says of a step, by data.
	verdicts map[string]workflow.Verdict
}

// journal records steps like the intent log, and refuses every record
// once fenced (another replica took the intent over).
type journal struct {
	saved  [][]store.Step
	fenced bool
}

func (j *journal) Save(_ context.Context, steps []store.Step) error {
	if j.fenced {
		return fmt.Errorf("intent: %w", store.ErrLeaseLost)
	}
	j.saved = append(j.saved, append([]store.Step(nil), steps...))
	return nil
}

type item struct{ ID string }

func kind(name string) *workflow.Kind[*world, item] {
	return workflow.Declare(workflow.Spec[*world, item]{
		Name: name,
		Do: func(_ context.Context, w *world, d *item) error {
			if err := w.fail[name+":"+d.ID]; err != nil {
				return err
			}
			w.acted = append(w.acted, "do "+name+":"+d.ID)
			return nil
		},
		Undo: func(_ context.Context, w *world, d item) error {
			w.acted = append(w.acted, "undo "+name+":"+d.ID)
			return nil
		},
		Decide: func(_ context.Context, w *world, d item) (workflow.Verdict, string, error) {
			return w.verdicts[d.ID], "said " + d.ID, nil
		},
	})
}

func TestDoThenRollbackInReverse(t *testing.T) {
	a, b := kind("a"), kind("b")
	table := workflow.NewTable[*world](a, b)
	w := &world{fail: map[string]error{"b:2": errors.New("boom")}}
	j := &journal{}
	run := workflow.NewRun(table, w, j, nil)
	ctx := t.Context()
	if _, err := workflow.Do(ctx, run, a, item{"1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := workflow.Do(ctx, run, b, item{"2"}); err == nil {
		t.Fatal("b:2 did not fail")
	}
	// Every step was recorded begun before it acted.
	if got := j.saved[1]; len(got) != 2 || got[1].Status != store.StepBegun || got[0].Status != store.StepDone {
		t.Errorf("journal before b acted = %+v", got)
	}
	if err := run.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"do a:1", "undo b:2", "undo a:1"}
	if !slices.Equal(w.acted, want) {
		t.Errorf("acted = %v, want %v", w.acted, want)
	}
	// Each undo was recorded (undoing) before it acted.
	var undoing []string
	for _, steps := range j.saved {
		for _, st := range steps {
			if st.Status == store.StepUndoing {
				undoing = append(undoing, st.Name)
			}
		}
	}
	if !slices.Contains(undoing, "a") || !slices.Contains(undoing, "b") {
		t.Errorf("undos recorded = %v", undoing)
	}
}

// TestFencedRunTouchesNothing: once the journal refuses records, the run
// neither acts nor undoes.
func TestFencedRunTouchesNothing(t *testing.T) {
	a := kind("a")
	w := &world{}
	j := &journal{}
	run := workflow.NewRun(workflow.NewTable[*world](a), w, j, nil)
	ctx := t.Context()
	if _, err := workflow.Do(ctx, run, a, item{"1"}); err != nil {
		t.Fatal(err)
	}
	j.fenced = true
	if _, err := workflow.Do(ctx, run, a, item{"2"}); !workflow.IsFenced(err) {
		t.Errorf("Do when fenced = %v, want fenced", err)
	}
	if err := run.Rollback(ctx); !workflow.IsFenced(err) {
		t.Errorf("Rollback when fenced = %v, want fenced", err)
	}
	if !slices.Equal(w.acted, []string{"do a:1"}) {
		t.Errorf("acted after fencing: %v", w.acted)
	}
}

// TestDecide: leave wins, then finish, else the workflow's start.
func TestDecide(t *testing.T) {
	a := kind("a")
	table := workflow.NewTable[*world](a)
	steps := func(ids ...string) []store.Step {
		var out []store.Step
		for _, id := range ids {
			out = append(out, store.Step{Name: "a", Data: []byte(`{"ID":"` + id + `"}`)})
		}
		return out
	}
	cases := map[string]struct {
		verdicts map[string]workflow.Verdict
		ids      []string
		start    workflow.Verdict
		want     workflow.Verdict
	}{
		"no steps: start":      {start: workflow.Finish, want: workflow.Finish},
		"undo":                 {verdicts: map[string]workflow.Verdict{}, ids: []string{"1", "2"}, want: workflow.Undo},
		"a commit":             {verdicts: map[string]workflow.Verdict{"2": workflow.Finish}, ids: []string{"1", "2"}, want: workflow.Finish},
		"cannot tell wins":     {verdicts: map[string]workflow.Verdict{"1": workflow.Leave, "2": workflow.Finish}, ids: []string{"1", "2"}, want: workflow.Leave},
		"a step of no kind":    {ids: []string{"1"}, want: workflow.Leave},
		"undone steps are not": {verdicts: map[string]workflow.Verdict{"1": workflow.Leave}, ids: []string{"1"}, want: workflow.Undo},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			recorded := steps(tc.ids...)
			switch name {
			case "a step of no kind":
				recorded[0].Name = "vanished"
			case "undone steps are not":
				recorded[0].Status = store.StepUndone
			}
			run := workflow.NewRun(table, &world{verdicts: tc.verdicts}, &journal{}, recorded)
			d, _ := run.Decide(t.Context(), workflow.Decision{Verdict: tc.start})
			if d.Verdict != tc.want {
				t.Errorf("Decide = %v (%s), want %v", d.Verdict, d.Why, tc.want)
			}
		})
	}
}

// TestEnsureResumes: a step already done is not run again; one begun (the
// process died in it) runs again in place; a new one is appended.
func TestEnsureResumes(t *testing.T) {
	a := kind("a")
	table := workflow.NewTable[*world](a)
	recorded := []store.Step{
		{Name: "a", Data: []byte(`{"ID":"1"}`), Status: store.StepDone},
		{Name: "a", Data: []byte(`{"ID":"2"}`), Status: store.StepBegun},
	}
	w := &world{}
	j := &journal{}
	run := workflow.NewRun(table, w, j, recorded)
	for _, id := range []string{"1", "2", "3"} {
		if _, err := workflow.Ensure(t.Context(), run, a, func(d item) bool { return d.ID == id }, item{id}); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(w.acted, []string{"do a:2", "do a:3"}) {
		t.Errorf("acted = %v, want a:2 again and a:3", w.acted)
	}
	steps := run.Steps()
	var got []string
	for _, st := range steps {
		got = append(got, string(st.Data)+"="+st.Status)
	}
	if len(steps) != 3 || !strings.Contains(got[1], store.StepDone) {
		t.Errorf("steps = %v; want three, the resumed one done in place", got)
	}
}

// TestDuplicateKindsPanic: two kinds of one name are a programming error.
func TestDuplicateKindsPanic(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewTable took two kinds named a")
		}
	}()
	workflow.NewTable[*world](kind("a"), kind("a"))
}
