package ironic

import (
	"bufio"
	"bytes"
	"os"
	"regexp"
)

// What a node went through, read from Ironic's own log: a poller of the
// API misses short states (verifying lasts about 20 ms with
// fake-hardware), the log has every one. Ironic's conductor logs each
// provision-state change (ironic/conductor/task_manager.py,
// process_event) and each power action before it takes it
// (ironic/conductor/utils.py, _can_skip_state_change), at INFO, or ERROR
// for a failed state; the standalone Ironic logs at INFO.
var (
	// Node <uuid> moved to provision state "<state>" from state
	// "<previous>"; target provision state is "<target>"
	provisionLine = regexp.MustCompile(`Node ([0-9a-f-]{36}) moved to provision state "([^"]*)" from state "([^"]*)"`)
	// Node <uuid> current power state is '<state>', requested state is
	// '<new state>'.
	powerLine = regexp.MustCompile(`Node ([0-9a-f-]{36}) current power state is '([^']*)', requested state is '([^']*)'`)
)

// ProvisionStates returns the provision states the node went through, in
// order, as Ironic logged them: the state it was in before its first
// logged change (enroll for a node created through the API, which
// logs no change), then every state it moved to. A node that never
// changed state has none.
func (s *Server) ProvisionStates(nodeUUID string) ([]string, error) {
	var states []string
	err := s.scanLog(provisionLine, nodeUUID, func(_ []byte, m [][]byte) {
		if states == nil {
			states = append(states, string(m[3]))
		}
		states = append(states, string(m[2]))
	})
	return states, err
}

// PowerChange is one power action Ironic's conductor took on a node:
// the state it read before and the state it asked for ("power on",
// "power off", "rebooting", …).
type PowerChange struct {
	From, To string
}

// PowerChanges returns every power action Ironic took on the node, in
// order: a power-state change requested through the API, or forced by a
// power-state sync ([conductor] force_power_state_during_sync), or made
// by a provision action (cleaning, deploying). A node nobody powered has
// none. (Ironic recording a state it read, as the sync and verifying do,
// is no action and not listed.)
func (s *Server) PowerChanges(nodeUUID string) ([]PowerChange, error) {
	var changes []PowerChange
	err := s.scanLog(powerLine, nodeUUID, func(_ []byte, m [][]byte) {
		changes = append(changes, PowerChange{From: string(m[2]), To: string(m[3])})
	})
	return changes, err
}

// scanLog calls found with each whole line of Ironic's logs (those of the
// runs before a Restart, then its own) that re matches for nodeUUID (its
// first group), and the submatches, in order. A last line Ironic is still
// writing is left for the next read.
func (s *Server) scanLog(re *regexp.Regexp, nodeUUID string, found func(line []byte, m [][]byte)) error {
	for _, path := range s.PreviousLogs {
		if err := scanFile(path, re, nodeUUID, found); err != nil {
			return err
		}
	}
	return scanFile(s.Log, re, nodeUUID, found)
}

// scanFile is scanLog over one log file.
func scanFile(path string, re *regexp.Regexp, nodeUUID string, found func(line []byte, m [][]byte)) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		b = nil
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	id := []byte(nodeUUID)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, id) {
			continue
		}
		if m := re.FindSubmatch(line); m != nil && bytes.Equal(m[1], id) {
			found(line, m)
		}
	}
	return sc.Err()
}
