package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The audit trail through the API; its assertions live in the tests that
// adopt, release, roll back and repair (cloud_test.go, adopt_crash_test.go).

type actionRow struct {
	Action     string  `json:"action"`
	ServerUUID string  `json:"server_uuid"`
	RequestID  string  `json:"request_id"`
	UserID     string  `json:"user_id"`
	ProjectID  string  `json:"project_id"`
	StartTime  *string `json:"start_time"`
	FinishTime *string `json:"finish_time"`
	Result     string  `json:"result"`
	Message    *string `json:"message"`
}

// serverActions reads GET /v1/servers/{uuid}/actions (newest first).
func serverActions(t *testing.T, hostURL, serverUUID string) []actionRow {
	t.Helper()
	code, body := status(t, hostURL+"/v1/servers/"+serverUUID+"/actions")
	if code != http.StatusOK {
		t.Fatalf("actions of %s: %d %s", serverUUID, code, body)
	}
	var list struct {
		Actions []actionRow `json:"actions"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	for _, a := range list.Actions {
		if a.ServerUUID != serverUUID || a.StartTime == nil || a.FinishTime == nil || *a.FinishTime < *a.StartTime {
			t.Errorf("action %+v of server %s", a, serverUUID)
		}
	}
	return list.Actions
}

// serverActionByRequest reads GET /v1/servers/{uuid}/actions/{request_id}.
func serverActionByRequest(t *testing.T, hostURL, serverUUID, requestID string) actionRow {
	t.Helper()
	code, body := status(t, hostURL+"/v1/servers/"+serverUUID+"/actions/"+requestID)
	if code != http.StatusOK {
		t.Fatalf("action %s of %s: %d %s", requestID, serverUUID, code, body)
	}
	var one struct {
		Action actionRow `json:"action"`
	}
	if err := json.Unmarshal([]byte(body), &one); err != nil {
		t.Fatal(err)
	}
	return one.Action
}

// actionServer finds, in the host's SQLite database, the server uuid of
// the action a request began: a refused adoption never tells its client
// the uuid it claimed.
func actionServer(t *testing.T, dbPath, requestID string) string {
	t.Helper()
	var id string
	err := openSQLite(t, dbPath).QueryRowContext(t.Context(), `SELECT server_uuid FROM actions WHERE request_id = ?`, requestID).Scan(&id)
	if err != nil {
		t.Fatalf("the action of request %s: %v", requestID, err)
	}
	return id
}

// sameAction compares two actions but for their times.
func sameAction(got, want actionRow) bool {
	got.StartTime, got.FinishTime, want.StartTime, want.FinishTime = nil, nil, nil, nil
	gm, wm := "", ""
	if got.Message != nil {
		gm = *got.Message
	}
	if want.Message != nil {
		wm = *want.Message
	}
	got.Message, want.Message = nil, nil
	return got == want && gm == wm
}

// checkRepairAction checks the audit trail of an adoption a killed host
// left unfinished and the restarted one repaired: one manage action under
// the killed request's id and caller (noauth's admin), a success when it
// was completed, an error saying it was interrupted when rolled back.
func checkRepairAction(t *testing.T, hostURL, serverUUID string, adopted bool) {
	t.Helper()
	got := serverActions(t, hostURL, serverUUID)
	want := "success"
	if !adopted {
		want = "error"
	}
	if len(got) != 1 || got[0].Action != "manage" || got[0].Result != want || got[0].UserID != "admin" ||
		got[0].ProjectID != "admin" || !strings.HasPrefix(got[0].RequestID, "req-") ||
		adopted != (got[0].Message == nil) || (!adopted && !strings.Contains(*got[0].Message, "interrupted")) {
		t.Errorf("actions of the repaired adoption %s = %+v; want one manage %s", serverUUID, got, want)
	}
}
