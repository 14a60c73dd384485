package manage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/host/internal/workflow"
)

// Outcomes of IntentRepair, as mogan-api recover prints them.
const (
	RepairCompleted  = "completed"
	RepairRolledBack = "rolled back"
	RepairReleased   = "released"
	RepairResumed    = "resumed"
	RepairLeft       = "left to the reconciler"
)

// IntentRepair is what a repair pass did, or would do, with one
// interrupted adoption or release.
type IntentRepair struct {
	ServerUUID, NodeUUID string
	Action               string // store.ActionManage, ActionUnmanage or ActionMigrate
	RequestID            string
	Owner                string   // the replica it belonged to
	Steps                []string // the steps it had begun, in order
	Outcome              string   // RepairCompleted, RepairRolledBack, RepairReleased, RepairResumed or RepairLeft
	Why                  string   // for a human: why this outcome
}

// decide reads what a repair needs to choose, and chooses, through the
// step table: a release is finished; an adoption whose manage step says
// the node names the server (and whose record is there) is completed;
// anything else is rolled back, or left when a step cannot tell. The
// driver is only read.
func (s *Service) decide(ctx context.Context, in store.Intent) (*workflow.Run[*job], workflow.Decision, error) {
	rec, err := s.store.GetServer(ctx, in.ServerUUID)
	if errors.Is(err, store.ErrNotFound) {
		rec = store.Server{}
	} else if err != nil {
		return nil, workflow.Decision{}, err
	}
	j := s.newJob(in, rec)
	start := workflow.Decision{Verdict: workflow.Undo, Why: "the driver was never asked to associate the node"}
	if in.Action == store.ActionMigrate {
		m, err := s.store.GetMigration(ctx, in.ServerUUID)
		if err != nil {
			return nil, workflow.Decision{}, err
		}
		var p migrationPlan
		if err := json.Unmarshal(m.Plan, &p); err != nil {
			return nil, workflow.Decision{}, fmt.Errorf("migration %s: plan: %w", m.UUID, err)
		}
		j = s.migrationJobOf(in, m, p, nil, Caller{})
		start = workflow.Decision{Verdict: workflow.Finish, Why: "the migration carries on"}
	}
	run := s.run(j)
	if in.Action == store.ActionUnmanage {
		start = workflow.Decision{Verdict: workflow.Finish, Why: "a release is always finished"}
		if rec.UUID == "" {
			start.Why = "the server record is already gone"
		}
	}
	d, err := run.Decide(ctx, start)
	if err == nil && d.Verdict == workflow.Leave {
		err = errors.New(d.Why)
	}
	return run, d, err
}

// PlanRecovery says what Recover would do now with each intent, changing
// nothing (mogan-api recover --dry-run): it lists the intents Recover would
// take, without taking them, and decides each as repair does, reading the
// driver only. An intent another replica holds under a live lease is not
// listed, as Recover would not take it.
func (s *Service) PlanRecovery(ctx context.Context) ([]IntentRepair, error) {
	// Recover runs as a new start of this replica: every earlier start's
	// intents are its.
	intents, err := s.store.RepairCandidates(ctx, s.owner, math.MaxInt64)
	if err != nil {
		return nil, fmt.Errorf("finding intents to repair: %w", err)
	}
	plan := make([]IntentRepair, len(intents))
	for i, in := range intents {
		_, d, err := s.decide(ctx, in)
		if err != nil {
			plan[i] = describeRepair(in, repairResult{err: err}, "")
			continue
		}
		plan[i] = describeRepair(in, repairResult{outcome: outcomeOf(in, d.Verdict)}, d.Why)
	}
	return plan, nil
}

// outcomeOf is the outcome a repair of in with verdict v reports.
func outcomeOf(in store.Intent, v workflow.Verdict) repairOutcome {
	switch {
	case in.Action == store.ActionUnmanage:
		return outcomeReleased
	case in.Action == store.ActionMigrate && v == workflow.Finish:
		return outcomeResumed
	case v == workflow.Finish:
		return outcomeCompleted
	}
	return outcomeRolledBack
}

// describeRepair is what became of one intent.
func describeRepair(in store.Intent, r repairResult, why string) IntentRepair {
	ir := IntentRepair{ServerUUID: in.ServerUUID, NodeUUID: in.NodeUUID, Action: in.Action, RequestID: in.RequestID,
		Owner: in.Owner, Why: why}
	for _, st := range in.Steps {
		ir.Steps = append(ir.Steps, st.Name)
	}
	switch {
	case r.err != nil:
		ir.Outcome, ir.Why = RepairLeft, r.err.Error()
	case r.outcome == outcomeCompleted:
		ir.Outcome = RepairCompleted
	case r.outcome == outcomeRolledBack:
		ir.Outcome = RepairRolledBack
	case r.outcome == outcomeReleased:
		ir.Outcome = RepairReleased
	case r.outcome == outcomeResumed:
		ir.Outcome = RepairResumed
	}
	return ir
}

// String is one line for an operator.
func (ir IntentRepair) String() string {
	steps := "none"
	if len(ir.Steps) > 0 {
		steps = strings.Join(ir.Steps, ", ")
	}
	line := fmt.Sprintf("%s: %s of server %s (node %s, request %s, replica %s, steps begun: %s)",
		ir.Outcome, ir.Action, ir.ServerUUID, ir.NodeUUID, ir.RequestID, ir.Owner, steps)
	if ir.Why != "" {
		line += ": " + ir.Why
	}
	return line
}
