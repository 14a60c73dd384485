package manage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// Outcomes of IntentRepair, as mogan-api recover prints them.
const (
	RepairCompleted  = "completed"
	RepairRolledBack = "rolled back"
	RepairReleased   = "released"
	RepairLeft       = "left to the reconciler"
)

// IntentRepair is what a repair pass did, or would do, with one
// interrupted adoption or release.
type IntentRepair struct {
	ServerUUID, NodeUUID string
	Action               string // store.ActionManage or store.ActionUnmanage
	RequestID            string
	Owner                string   // the replica it belonged to
	Steps                []string // the steps it had begun, in order
	Outcome              string   // RepairCompleted, RepairRolledBack, RepairReleased or RepairLeft
	Why                  string   // for a human: why this outcome
}

// decision is what repair will do with an intent, read without acting.
type decision struct {
	outcome repairOutcome
	rec     store.Server // the server's record; its UUID is "" when there is none
	state   driver.NodeState
	why     string
}

// decide reads what repair needs to choose, and chooses: a release is
// finished; an adoption whose node names the server (and whose record is
// there) is completed; anything else is rolled back. The driver is only
// read (GetNodeStates).
func (s *Service) decide(ctx context.Context, in store.Intent) (decision, error) {
	rec, err := s.store.GetServer(ctx, in.ServerUUID)
	if errors.Is(err, store.ErrNotFound) {
		rec = store.Server{}
	} else if err != nil {
		return decision{}, err
	}
	if in.Action == store.ActionUnmanage {
		if rec.UUID == "" {
			return decision{outcome: outcomeReleased, why: "the server record is already gone"}, nil
		}
		return decision{outcome: outcomeReleased, rec: rec, why: "a release is always finished"}, nil
	}
	why := "the driver was never asked to associate the node"
	if hasStep(in, stepManage) {
		associated, err := s.associatedWith(ctx, in.NodeUUID, in.ServerUUID)
		if err != nil {
			return decision{}, err
		}
		if associated.ok && rec.UUID != "" {
			return decision{outcome: outcomeCompleted, rec: rec, state: associated.state, why: "the node names the server"}, nil
		}
		why = "the node does not name the server (or the driver cannot say)"
		if associated.ok {
			why = "the server record is gone"
		}
	}
	return decision{outcome: outcomeRolledBack, rec: rec, why: why}, nil
}

// PlanRecovery says what Recover would do now with each intent, changing
// nothing (mogan-api recover --dry-run): it lists the intents Recover would
// take, without taking them, and decides each as repair does, reading the
// driver only. An intent another replica holds under a live lease is not
// listed, as Recover would not take it.
func (s *Service) PlanRecovery(ctx context.Context) ([]IntentRepair, error) {
	intents, err := s.store.RepairCandidates(ctx, s.owner, true)
	if err != nil {
		return nil, fmt.Errorf("finding intents to repair: %w", err)
	}
	plan := make([]IntentRepair, len(intents))
	for i, in := range intents {
		d, err := s.decide(ctx, in)
		if err != nil {
			plan[i] = describeRepair(in, repairResult{err: err}, "")
			continue
		}
		plan[i] = describeRepair(in, repairResult{outcome: d.outcome}, d.why)
	}
	return plan, nil
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
