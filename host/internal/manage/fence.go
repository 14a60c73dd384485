package manage

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// takenOver is the error of a run that lost its intent: another replica
// took it over (this one was paused past its lease, or lost its
// database), and that replica finishes or rolls it back from the journal.
// The cause is logged by the caller.
func takenOver(in store.Intent, _ error) error {
	what := "The adoption of node " + in.NodeUUID
	if in.Action == store.ActionUnmanage {
		what = "The release of node " + in.NodeUUID
	}
	return &refusal{kind: ErrTakenOver, msg: fmt.Sprintf(
		"%s (server %s) was taken over by another replica, which finishes or rolls it back; "+
			"see GET /v1/servers/%s/actions for how it ended.", what, in.ServerUUID, in.ServerUUID)}
}

// storeError makes the database's unavailability (a connection refused,
// dropped or terminated) a 503 the client may retry, and returns any other
// error as it is.
func storeError(err error) error {
	if err == nil || !errors.Is(err, store.ErrUnavailable) || errors.Is(err, ErrStoreUnavailable) {
		return err
	}
	return &refusal{kind: ErrStoreUnavailable,
		msg: "The database is unavailable (its connection was refused or dropped); nothing is lost: retry the request."}
}

// inflight are the intents this process is working on now: their leases
// are renewed. An intent this replica holds but no longer works on — its
// run gave up while the database was down, so it could neither undo nor
// mark it for a retry — is not, so its lease runs out and a repair (this
// replica's own reconciler, or another's) takes it over.
type inflight struct {
	mu      sync.Mutex
	intents map[string]int
}

// track marks an intent in progress until the returned func is called.
func (f *inflight) track(serverUUID string) (untrack func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.intents == nil {
		f.intents = map[string]int{}
	}
	f.intents[serverUUID]++
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.intents[serverUUID]--; f.intents[serverUUID] <= 0 {
			delete(f.intents, serverUUID)
		}
	}
}

// list names the intents in progress.
func (f *inflight) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Collect(maps.Keys(f.intents))
}
