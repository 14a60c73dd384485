package pluginmanager

import (
	"strings"
	"testing"
	"time"

	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// The request id of a call's context reaches the plugin (gRPC metadata)
// and is on the plugin's log line for the call; an id not in oslo's format
// is dropped there.
func TestRequestIDReachesThePlugin(t *testing.T) {
	m, _, logs := setup(t, `{}`, 0)
	const good = "req-6f4e6c83-7a0b-4d8e-9c55-2e7c1c7e8d11"
	const node = "00000000-0000-4000-8000-000000000001"
	// The malformed one first: the plugin's lines arrive in order, so once
	// the good one's is there, the bad one's was written before it.
	if _, err := m.Driver().GetManageableNode(requestid.With(t.Context(), "req-not-a-uuid"), node); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Driver().GetManageableNode(requestid.With(t.Context(), good), node); err != nil {
		t.Fatal(err)
	}
	select {
	case <-logs.seen("request_id=" + good):
	case <-time.After(30 * time.Second): // a bound against hanging, not a timing assertion
		t.Fatalf("no plugin line names %s:\n%s", good, logs.String())
	}
	if strings.Contains(logs.String(), "req-not-a-uuid") {
		t.Errorf("the plugin took a malformed request id:\n%s", logs.String())
	}
}
