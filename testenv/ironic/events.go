package ironic

import (
	"regexp"
	"time"
)

// Event is a provision-state change or the deletion of a node, as Ironic's
// log records it, with the time of the line: the order of what happened
// to one node in two Ironics on one machine (a node handed over from one
// to the other) can be read from their logs.
type Event struct {
	// At is the line's time, Ironic's local time to the millisecond.
	At time.Time
	// State is the provision state the node moved to; "" for the
	// deletion.
	State string
	// Deleted says Ironic deleted the node's record.
	Deleted bool
}

var (
	// A provision-state change (provisionLine) or a deletion
	// ("Successfully deleted node <uuid>.", ironic/conductor/manager.py,
	// destroy_node, at INFO), the node's uuid first.
	eventLine = regexp.MustCompile(`(?:Node|Successfully deleted node) ([0-9a-f-]{36})(?: moved to provision state "[^"]*"|\.)`)
	// Every line starts with its time: 2026-12-07 19:07:04.732 <pid> …
	lineTime = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}`)
)

// logTimeLayout is lineTime's layout.
const logTimeLayout = "2006-01-02 15:04:05.000"

// Events returns every provision-state change of the node and its
// deletion, as Ironic's logs record them, in order, each with its time. A
// node that Ironic created and never changed has none.
func (s *Server) Events(nodeUUID string) ([]Event, error) {
	var out []Event
	err := s.scanLog(eventLine, nodeUUID, func(line []byte, _ [][]byte) {
		var e Event
		if t := lineTime.Find(line); t != nil {
			e.At, _ = time.ParseInLocation(logTimeLayout, string(t), time.Local)
		}
		if p := provisionLine.FindSubmatch(line); p != nil {
			e.State = string(p[2])
		} else {
			e.Deleted = true
		}
		out = append(out, e)
	})
	return out, err
}
