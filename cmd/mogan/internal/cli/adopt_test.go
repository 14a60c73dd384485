package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/cmd/mogan/internal/adopt"
)

const (
	nodeA = "aaaaaaaa-0000-0000-0000-000000000001" // adoptable, named web-1
	nodeB = "bbbbbbbb-0000-0000-0000-000000000002" // adoptable, no name
	nodeC = "cccccccc-0000-0000-0000-000000000003" // refused: maintenance (409)
	nodeD = "dddddddd-0000-0000-0000-000000000004" // held by a server already
	nodeE = "eeeeeeee-0000-0000-0000-000000000005" // 409, then the servers list shows it held
	nodeF = "ffffffff-0000-0000-0000-000000000006" // 409, not held: failed
	heldD = "5e7e0000-dddd-0000-0000-000000000000"
	heldE = "5e7e0000-eeee-0000-0000-000000000000"
)

func newFake() *fakeAPI {
	return &fakeAPI{
		nodes: []map[string]any{
			node(nodeA, "web-1", "east", "gold"), node(nodeB, "", "west", "silver"),
			node(nodeC, "db-1", "east", "gold"), node(nodeE, "e", "east", "gold"), node(nodeF, "f", "west", "gold"),
		},
		backends: []string{"east", "west"},
		servers:  []map[string]any{{"uuid": heldD, "node_uuid": nodeD, "status": "active", "backend": "west"}},
		refuse:   map[string]int{nodeC: http.StatusConflict, nodeE: http.StatusConflict, nodeF: http.StatusConflict},
		raceHold: map[string]string{nodeE: heldE},
	}
}

type result struct {
	Node    string  `json:"node_uuid"`
	Server  *string `json:"server_uuid"`
	Outcome string  `json:"outcome"`
	Reason  *string `json:"reason"`
}

func decodeResults(t *testing.T, stdout string) []result {
	t.Helper()
	var rs []result
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		t.Fatalf("-f json output %q: %v", stdout, err)
	}
	return rs
}

func ptr(s string) *string { return &s }

// TestAdoptOutcomes runs adopt against the fake API: each node's outcome
// word, server and reason, the exit code and what was posted.
func TestAdoptOutcomes(t *testing.T) {
	fakeReason := func(n string) *string { return ptr("Node " + n + " refused by the fake. (HTTP 409, request req-fake)") }
	for name, tc := range map[string]struct {
		args       []string
		wantCode   int
		want       []result
		wantPosted []string
	}{
		"every kind of outcome": {
			args:     []string{nodeA, nodeB, nodeC, nodeD, nodeE, nodeF, nodeA},
			wantCode: ExitFailed,
			want: []result{
				{nodeA, ptr("5e7e0000-0000-0000-0000-000000000001"), "adopted", nil},
				{nodeB, ptr("5e7e0000-0000-0000-0000-000000000002"), "adopted", nil},
				{nodeC, nil, "failed", fakeReason(nodeC)},
				{nodeD, ptr(heldD), "skipped", ptr("already managed by server " + heldD + " (active)")},
				{nodeE, ptr(heldE), "skipped", ptr("already managed by server " + heldE + " (active)")},
				{nodeF, nil, "failed", fakeReason(nodeF)},
			},
			wantPosted: []string{nodeA, nodeB, nodeC, nodeE, nodeF},
		},
		"all adopted or skipped": {
			args:     []string{nodeA, nodeD},
			wantCode: ExitOK,
			want: []result{
				{nodeA, ptr("5e7e0000-0000-0000-0000-000000000001"), "adopted", nil},
				{nodeD, ptr(heldD), "skipped", ptr("already managed by server " + heldD + " (active)")},
			},
			wantPosted: []string{nodeA},
		},
		"--all --resource-class": {
			args:     []string{"--all", "--resource-class", "silver"},
			wantCode: ExitOK,
			want: []result{
				{nodeB, ptr("5e7e0000-0000-0000-0000-000000000002"), "adopted", nil},
			},
			wantPosted: []string{nodeB},
		},
		"dry run": {
			args:     []string{"--dry-run", nodeA, nodeC, nodeD},
			wantCode: ExitFailed,
			want: []result{
				{nodeA, nil, "would adopt", nil},
				{nodeC, nil, "failed", fakeReason(nodeC)},
				{nodeD, ptr(heldD), "skipped", ptr("already managed by server " + heldD + " (active)")},
			},
		},
		"dry run all well": {
			args:     []string{"--dry-run", nodeA, nodeB},
			wantCode: ExitOK,
			want:     []result{{nodeA, nil, "would adopt", nil}, {nodeB, nil, "would adopt", nil}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			fake := newFake()
			srv := fake.serve(t)
			code, stdout, stderr := run{}.mogan(t, append([]string{"adopt", "--url", srv.URL, "-f", "json", "--concurrency", "3"}, tc.args...)...)
			if code != tc.wantCode {
				t.Errorf("exit %d; want %d\nstderr: %s", code, tc.wantCode, stderr)
			}
			if diff := cmp.Diff(tc.want, decodeResults(t, stdout)); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			var posted []string
			for _, b := range fake.posted {
				posted = append(posted, b["node_uuid"].(string))
			}
			if diff := cmp.Diff(tc.wantPosted, posted, sortStrings); diff != "" {
				t.Errorf("nodes posted (-want +got):\n%s", diff)
			}
			// Without a terminal, progress is one line per node on stderr.
			if got := strings.Count("\n"+stderr, "\n["); got != len(tc.want) {
				t.Errorf("%d progress lines on stderr; want %d:\n%s", got, len(tc.want), stderr)
			}
		})
	}
}

var sortStrings = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

// TestAdoptRequestBody: the template, description, properties, project
// and user reach the manage body.
func TestAdoptRequestBody(t *testing.T) {
	for name, tc := range map[string]struct {
		args     []string
		want     map[string]any
		wantCode int
		wantErr  string
	}{
		"default name is the node's name": {
			args: []string{nodeA},
			want: map[string]any{"node_uuid": nodeA, "name": "web-1"},
		},
		"default name falls back to the uuid": {
			args: []string{nodeB},
			want: map[string]any{"node_uuid": nodeB, "name": nodeB},
		},
		"a typo fails the node": {
			args:     []string{nodeA, "--name-template", "{{.hostnme}}"},
			wantCode: ExitFailed,
			wantErr:  `map has no entry for key "hostnme"`,
		},
		"a null field is empty": {
			args: []string{nodeB, "--name-template", "x{{.name}}-{{.image_source}}"},
			want: map[string]any{"node_uuid": nodeB, "name": "x-"},
		},
		"a node the listing lacks has its uuid": {
			args: []string{"99999999-0000-0000-0000-000000000009", "--name-template", "n-{{.uuid}}{{.name}}"},
			want: map[string]any{"node_uuid": "99999999-0000-0000-0000-000000000009", "name": "n-99999999-0000-0000-0000-000000000009"},
		},
		"everything": {
			args: []string{nodeA, "--name-template", "{{.resource_class}}-{{.uuid}}", "--description", "from rack 7",
				"--property", "rack=7", "--property", "owner=a=b", "--project", "p-1", "--user", "u-1"},
			want: map[string]any{
				"node_uuid": nodeA, "name": "gold-" + nodeA, "description": "from rack 7",
				"metadata": map[string]any{"rack": "7", "owner": "a=b"}, "project_id": "p-1", "user_id": "u-1",
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			fake := newFake()
			srv := fake.serve(t)
			code, _, stderr := run{env: map[string]string{"MOGAN_URL": srv.URL}}.mogan(t, append([]string{"adopt"}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("exit %d: %s; want %d with %q", code, stderr, tc.wantCode, tc.wantErr)
			}
			if tc.want == nil {
				if len(fake.posted) > 0 {
					t.Errorf("posted %v", fake.posted)
				}
				return
			}
			if len(fake.posted) != 1 {
				t.Fatalf("posted %v", fake.posted)
			}
			if diff := cmp.Diff(tc.want, fake.posted[0]); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAdoptTable: the default output is a table with the outcome words.
func TestAdoptTable(t *testing.T) {
	fake := newFake()
	srv := fake.serve(t)
	code, stdout, stderr := run{}.mogan(t, "adopt", "--url", srv.URL, nodeA, nodeC, nodeD)
	if code != ExitFailed {
		t.Errorf("exit %d; want 1", code)
	}
	for _, want := range []string{"NODE", "SERVER UUID", "OUTCOME", "REASON", "| adopted", "| failed", "| skipped", "refused by the fake"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "3 nodes: 1 adopted, 1 skipped, 1 failed") {
		t.Errorf("stderr lacks the summary: %s", stderr)
	}
}

// TestAdoptInterrupted: Ctrl-C lets the adoptions in flight finish and
// starts no other; those are failed as not started.
func TestAdoptInterrupted(t *testing.T) {
	fake := newFake()
	fake.refuse = nil
	fake.block = make(chan struct{})
	fake.started = make(chan string, 10)
	srv := fake.serve(t)
	interrupts := make(chan os.Signal, 1)
	type out struct {
		code           int
		stdout, stderr string
	}
	done := make(chan out)
	stderr := &syncBuffer{}
	go func() {
		code, stdout, stderr := run{interrupts: interrupts, stderr: stderr}.mogan(t, "adopt", "--url", srv.URL, "-f", "json", "--concurrency", "2", nodeA, nodeB, nodeC, nodeE)
		done <- out{code, stdout, stderr}
	}()
	inFlight := map[string]bool{<-fake.started: true, <-fake.started: true}
	interrupts <- syscall.SIGINT
	// The adoptions in flight end only once the interrupt was taken.
	for !strings.Contains(stderr.String(), "interrupted:") {
		time.Sleep(5 * time.Millisecond)
	}
	close(fake.block)
	got := <-done
	if got.code != ExitFailed {
		t.Errorf("exit %d; want 1\n%s", got.code, got.stderr)
	}
	for _, r := range decodeResults(t, got.stdout) {
		want := "failed"
		if inFlight[r.Node] {
			want = "adopted"
		}
		if r.Outcome != want {
			t.Errorf("node %s: %s (%v); want %s", r.Node, r.Outcome, r.Reason, want)
		}
		if want == "failed" && (r.Reason == nil || !strings.Contains(*r.Reason, "not started")) {
			t.Errorf("node %s: reason %v; want not started", r.Node, r.Reason)
		}
	}
	if len(fake.posted) != 2 {
		t.Errorf("%d adoptions posted; want the 2 in flight", len(fake.posted))
	}
}

// TestDryRunAgainstAnAPIWithoutIt: an API that ignores dry_run adopts the
// first node; the run says so and starts no other.
func TestDryRunAgainstAnAPIWithoutIt(t *testing.T) {
	fake := newFake()
	fake.noDryRun = true
	srv := fake.serve(t)
	code, stdout, _ := run{}.mogan(t, "adopt", "--url", srv.URL, "-f", "json", "--concurrency", "1", "--dry-run", nodeA, nodeB)
	if code != ExitFailed {
		t.Errorf("exit %d; want 1", code)
	}
	serverA := "5e7e0000-0000-0000-0000-000000000001"
	want := []result{
		{nodeA, ptr(serverA), "failed", ptr("this API does not support dry runs: it adopted the node as server " + serverA + " (unmanage it to undo)")},
		{nodeB, nil, "failed", ptr("not started: interrupted (rerun to carry on)")},
	}
	if diff := cmp.Diff(want, decodeResults(t, stdout)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if len(fake.posted) != 1 {
		t.Errorf("posted %d; want the one node before the run stopped", len(fake.posted))
	}
}

// TestSummary: the last line of an adoption run counts nodes and
// outcomes in English ("1 node", not "1 nodes").
func TestSummary(t *testing.T) {
	tests := map[string]struct {
		outcomes []adopt.Outcome
		want     string
	}{
		"none": {nil, "no nodes to adopt"},
		"one":  {[]adopt.Outcome{adopt.WouldAdopt}, "1 node: 1 would adopt"},
		"several": {[]adopt.Outcome{adopt.Failed, adopt.Adopted, adopt.Skipped},
			"3 nodes: 1 adopted, 1 skipped, 1 failed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var results []adopt.Result
			for _, o := range tc.outcomes {
				results = append(results, adopt.Result{Outcome: o})
			}
			if got := summary(results); got != tc.want {
				t.Errorf("summary = %q, want %q", got, tc.want)
			}
		})
	}
}
