package ironic

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mogan-manage/mogan-manage/testenv/internal/service"
)

// An Ironic that goes away and comes back: a test of a client that must
// outlast an outage stops the server with Stop and starts it again with
// Restart, on the same port, database and configuration, so that what it
// held before the outage is there after it. Each start writes a new log,
// so the one before is kept aside (PreviousLogs) and ProvisionStates,
// PowerChanges and Events read them all, in order.

// Restart starts a server that Stop stopped, as Start left it: the same
// ironic.conf (port, database, options), so the same URL and nodes. The
// log of the previous run is renamed ironic.log.<n> and listed in
// PreviousLogs. ctx bounds start-up only, as for Start. A server Attach
// made cannot be restarted.
func (s *Server) Restart(ctx context.Context) error {
	if s.proc == nil {
		return fmt.Errorf("ironic at %s: only a server this process started can be restarted", s.URL)
	}
	if len(s.proc.Processes()) > 0 {
		return fmt.Errorf("ironic at %s (pid %d) is still running: Stop it first", s.URL, s.PID)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	old := fmt.Sprintf("%s.%d", s.Log, len(s.PreviousLogs)+1)
	if err := os.Rename(s.Log, old); err != nil {
		return err
	}
	s.PreviousLogs = append(s.PreviousLogs, old)
	proc, err := service.Start(ctx, service.Options{
		Name:          "ironic",
		Package:       "python3-ironic",
		Dir:           s.Dir,
		Code:          pyMain("ironic.cmd.singleprocess", "ironic", "--config-file", filepath.Join(s.Dir, "ironic.conf")),
		Log:           s.Log,
		ReadyURL:      s.URL + "/v1",
		OutliveParent: s.outliveParent,
		StopTimeout:   stopTimeout,
	})
	if err != nil {
		return err
	}
	s.PID, s.proc = proc.PID, proc
	state, err := json.MarshalIndent(s, "", "  ")
	if err == nil {
		err = os.WriteFile(filepath.Join(s.Dir, stateFile), state, 0o600)
	}
	if err != nil {
		_ = s.Stop()
	}
	return err
}
