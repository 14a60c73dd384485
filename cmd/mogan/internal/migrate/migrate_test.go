package migrate

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/client"
)

// fakeAPI answers the create with created (existing says 200) and each
// read with the next of reads (the last repeats).
type fakeAPI struct {
	created  client.Migration
	existing bool
	err      error
	reads    []read
}

type read struct {
	m   client.Migration
	err error
}

func (f *fakeAPI) CreateMigration(context.Context, client.MigrationRequest) (client.Migration, bool, error) {
	return f.created, f.existing, f.err
}

func (f *fakeAPI) DryRunMigration(context.Context, client.MigrationRequest) (map[string]any, error) {
	return map[string]any{"dry_run": true}, nil
}

func (f *fakeAPI) GetMigration(context.Context, string) (client.Migration, error) {
	r := f.reads[0]
	if len(f.reads) > 1 {
		f.reads = f.reads[1:]
	}
	return r.m, r.err
}

func mig(status string, steps ...client.MigrationStep) client.Migration {
	return client.Migration{UUID: "m-1", Status: status, NodeUUID: "n-1", RequestID: "req-1", Steps: steps}
}

// TestOne: how each answer of the API becomes an outcome.
func TestOne(t *testing.T) {
	down := &client.APIError{Status: http.StatusServiceUnavailable, Fault: "down"}
	gone := &client.APIError{Status: http.StatusNotFound, Fault: "Migration m-1 could not be found."}
	for name, tc := range map[string]struct {
		api        fakeAPI
		want       Outcome
		wantReason string
	}{
		"followed to done":          {fakeAPI{created: mig("pending"), reads: []read{{m: mig("running")}, {m: mig("done")}}}, Migrated, ""},
		"an earlier run's, done":    {fakeAPI{created: mig("done"), existing: true}, Skipped, "done by an earlier run (migration m-1)"},
		"an earlier run's, running": {fakeAPI{created: mig("running"), existing: true, reads: []read{{m: mig("done")}}}, Migrated, ""},
		"an earlier run's, failed": {fakeAPI{created: mig("failed", client.MigrationStep{Name: "adopt", Error: "no"}), existing: true}, Failed,
			"step adopt: no; the machine stays in the target as it is; once fixed: mogan migration retry m-1 (request req-1)"},
		"rolled back, no step error": {fakeAPI{created: mig("pending"), reads: []read{{m: mig("rolled_back")}}}, Failed,
			"rolled back: nothing of it is left; fix it and rerun (request req-1)"},
		"rolled back, its error": {fakeAPI{created: mig("pending"), reads: []read{{m: client.Migration{UUID: "m-1", Status: "rolled_back", Error: "MAC taken", RequestID: "req-1"}}}}, Failed,
			"MAC taken; rolled back: nothing of it is left; fix it and rerun (request req-1)"},
		"the API down for a while": {fakeAPI{created: mig("pending"), reads: []read{{err: down}, {err: down}, {m: mig("done")}}}, Migrated, ""},
		"the API down for good":    {fakeAPI{created: mig("pending"), reads: []read{{err: down}}}, Failed, "lost track of migration m-1: down (HTTP 503); mogan migration show m-1 tells how it ends"},
		"the migration gone":       {fakeAPI{created: mig("pending"), reads: []read{{err: gone}}}, Failed, "migration m-1 is gone: Migration m-1 could not be found. (HTTP 404)"},
		"refused":                  {fakeAPI{err: &client.APIError{Status: 409, Fault: "busy", RequestID: "req-9"}}, Failed, "busy (HTTP 409, request req-9)"},
		"not sent":                 {fakeAPI{err: errors.New("connection refused")}, Failed, "connection refused"},
	} {
		t.Run(name, func(t *testing.T) {
			api := tc.api
			r := Runner{API: &api, PollInterval: time.Millisecond, LostAfter: 20 * time.Millisecond}
			got := r.one(context.Background(), Item{Label: "a"}, func() {})
			if got.Outcome != tc.want || got.Reason != tc.wantReason {
				t.Errorf("%s: %q; want %s: %q", got.Outcome, got.Reason, tc.want, tc.wantReason)
			}
			if got.Outcome == Failed && !strings.Contains(tc.wantReason, "connection refused") && !strings.Contains(name, "gone") && !strings.Contains(name, "down") && got.RequestID == "" {
				t.Errorf("a failure without its request id: %+v", got)
			}
		})
	}
}
