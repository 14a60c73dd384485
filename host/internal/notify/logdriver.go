package notify

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// logNotifier is oslo's "log" driver: one line per notification at its
// priority's level, carrying the notification dict (not the context, as
// oslo's). Logging is quick, so it happens in the caller's goroutine.
type logNotifier struct {
	cfg     Config
	closed  atomic.Bool
	dropped atomic.Uint64
}

func (l *logNotifier) Notify(_ context.Context, n Notification) {
	if l.closed.Load() {
		l.dropped.Add(1)
		return
	}
	body, err := pyJSON(message(n, l.cfg.PublisherID, time.Now()))
	if err != nil {
		l.dropped.Add(1)
		l.cfg.Logger.Error("notification dropped: payload is not JSON", "event_type", n.EventType, "error", err)
		return
	}
	level := hclog.Info
	if n.Priority == Error {
		level = hclog.Error
	}
	l.cfg.Logger.Log(level, "notification", "event_type", n.EventType, "priority", string(n.Priority), "body", string(body))
}

func (l *logNotifier) Close(context.Context) error {
	l.closed.Store(true)
	return nil
}

func (l *logNotifier) Dropped() uint64 { return l.dropped.Load() }
