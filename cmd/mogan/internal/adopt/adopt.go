package adopt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/batch"
	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/client"
)

// Outcome is what became of one node, in the words the CLI prints.
type Outcome string

const (
	Adopted    Outcome = "adopted"
	WouldAdopt Outcome = "would adopt"
	Skipped    Outcome = "skipped"
	Failed     Outcome = "failed"
)

// Result is one node's outcome. ServerUUID is the server that holds the
// node (adopted or skipped), "" otherwise; Reason says why a node was
// skipped or failed.
type Result struct {
	NodeUUID   string
	ServerUUID string
	Outcome    Outcome
	Reason     string
}

// Reasons of the outcomes the runner decides by itself.
const (
	ReasonNotStarted  = "not started: interrupted (rerun to carry on)"
	reasonInterrupted = "interrupted while in flight: rerun to see whether it was adopted"
)

// API is what the runner needs of the Mogan API (*client.Client).
type API interface {
	Manage(ctx context.Context, r client.ManageRequest) (client.Server, error)
	DryRunManage(ctx context.Context, r client.ManageRequest) (client.Plan, error)
	ListServers(ctx context.Context, allTenants bool) ([]client.Server, error)
}

// Runner adopts nodes, Concurrency at a time.
type Runner struct {
	API         API
	Concurrency int
	// DryRun asks the API what each adoption would do, changing nothing.
	DryRun bool
	// Build makes a node's manage request (its name from a template…);
	// an error fails that node alone.
	Build func(client.Node) (client.ManageRequest, error)
	// Done, when set, is called once per node as it is decided, never
	// concurrently.
	Done func(Result)

	abort func() // stops the run (set by Run)
}

// Run adopts nodes and returns one result per node, in their order. It
// first reads which nodes servers already hold (those are skipped
// without a request), so a rerun carries on where an interrupted run
// stopped. Once stop is closed no adoption starts (those nodes fail as
// not started) and Run waits for the ones in flight; cancelling ctx
// abandons those too. The error is for the servers list it could not read:
// then nothing was attempted.
func (r *Runner) Run(ctx context.Context, stop <-chan struct{}, nodes []client.Node) ([]Result, error) {
	held, err := r.held(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the servers that already hold nodes: %w", err)
	}
	results := make([]Result, len(nodes))
	var mu sync.Mutex // serializes Done with batch.Run's
	finish := func(i int, res Result) {
		mu.Lock()
		defer mu.Unlock()
		results[i] = res
		if r.Done != nil {
			r.Done(res)
		}
	}
	// The nodes a server holds already are skipped without a request (and
	// without a slot); the others are adopted, Concurrency at a time.
	var todo []int
	for i, node := range nodes {
		id := client.NodeString(node, "uuid")
		if srv, ok := held[id]; ok {
			finish(i, skipped(id, srv))
			continue
		}
		todo = append(todo, i)
	}
	// An API without dry runs adopts instead: the first such answer stops
	// the run, as if interrupted.
	var abortOnce sync.Once
	abort := make(chan struct{})
	r.abort = func() { abortOnce.Do(func() { close(abort) }) }
	batch.Run(ctx, batch.Options{Concurrency: r.Concurrency, Stop: stop, Abort: abort}, len(todo),
		func(ctx context.Context, k int) Result {
			node := nodes[todo[k]]
			return r.one(ctx, client.NodeString(node, "uuid"), node)
		},
		func(k int) Result {
			return Result{NodeUUID: client.NodeString(nodes[todo[k]], "uuid"), Outcome: Failed, Reason: ReasonNotStarted}
		},
		func(k int, res Result) { finish(todo[k], res) })
	return results, nil
}

// held maps node uuid → the server of this service holding it.
func (r *Runner) held(ctx context.Context) (map[string]client.Server, error) {
	servers, err := r.API.ListServers(ctx, true)
	if err != nil {
		return nil, err
	}
	held := make(map[string]client.Server, len(servers))
	for _, s := range servers {
		if s.NodeUUID != "" {
			held[s.NodeUUID] = s
		}
	}
	return held, nil
}

func skipped(node string, srv client.Server) Result {
	return Result{
		NodeUUID: node, ServerUUID: srv.UUID, Outcome: Skipped,
		Reason: fmt.Sprintf("already managed by server %s (%s)", srv.UUID, srv.Status),
	}
}

// one adopts (or plans) one node.
func (r *Runner) one(ctx context.Context, id string, node client.Node) Result {
	req, err := r.Build(node)
	if err != nil {
		return Result{NodeUUID: id, Outcome: Failed, Reason: err.Error()}
	}
	if r.DryRun {
		_, err = r.API.DryRunManage(ctx, req)
		if err == nil {
			return Result{NodeUUID: id, Outcome: WouldAdopt}
		}
		var noDry *client.NoDryRunError
		if errors.As(err, &noDry) {
			r.abort()
			return Result{NodeUUID: id, ServerUUID: noDry.ServerUUID, Outcome: Failed, Reason: err.Error()}
		}
	} else {
		srv, err2 := r.API.Manage(ctx, req)
		if err2 == nil {
			return Result{NodeUUID: id, ServerUUID: srv.UUID, Outcome: Adopted}
		}
		err = err2
	}
	return r.refused(ctx, id, err)
}

// refused decides what a failed request means. A conflict may be a
// server of this service holding the node already (a rerun racing with
// the first run, or an adoption whose answer was lost): skipped only if
// the servers list, read after the refusal, shows it held. Every other
// refusal is the API's reason, never hidden as skipped.
func (r *Runner) refused(ctx context.Context, id string, err error) Result {
	if ctx.Err() != nil {
		return Result{NodeUUID: id, Outcome: Failed, Reason: reasonInterrupted}
	}
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusConflict {
		held, herr := r.held(ctx)
		if herr != nil {
			return Result{NodeUUID: id, Outcome: Failed, Reason: fmt.Sprintf("%v; and reading the servers list to tell whether it is held: %v", err, herr)}
		}
		if srv, ok := held[id]; ok {
			return skipped(id, srv)
		}
	}
	return Result{NodeUUID: id, Outcome: Failed, Reason: err.Error()}
}
