package notify

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// Priority is oslo's notification priority. The routing key carries it in
// lower case: versioned_notifications.info / versioned_notifications.error.
type Priority string

// The priorities Mogan emits.
const (
	Info  Priority = "INFO"
	Error Priority = "ERROR"
)

// Notification is one event.
type Notification struct {
	EventType string // e.g. "server.manage.start"
	Priority  Priority
	Context   RequestContext
	Payload   any // JSON-marshalled as is into "payload"
}

// Notifier sends notifications. Every implementation is safe for
// concurrent use.
type Notifier interface {
	// Notify queues n and returns at once; it never fails or blocks the
	// caller. What cannot be queued or sent is dropped, counted and logged.
	Notify(ctx context.Context, n Notification)
	// Close flushes what it can within ctx and stops. Notifications given
	// to Notify after Close are dropped.
	Close(ctx context.Context) error
	// Dropped is how many notifications were dropped so far.
	Dropped() uint64
}

// The drivers, as [oslo_messaging_notifications] driver names them.
const (
	DriverNoop        = "noop"
	DriverLog         = "log"
	DriverMessagingV2 = "messagingv2"
)

// DefaultTopic is oslo's topic for versioned notifications.
const DefaultTopic = "versioned_notifications"

// Config selects and sets up a driver. The zero value is a working noop
// notifier.
type Config struct {
	// Driver is [oslo_messaging_notifications] driver: "noop" (also ""),
	// "log" or "messagingv2".
	Driver string
	// TransportURL is [DEFAULT] transport_url, oslo's form:
	// rabbit://user:pass@host:port[,user:pass@host2:port]/vhost. Required
	// for messagingv2. Its password never appears in a log line or error.
	TransportURL string
	// ControlExchange is [DEFAULT] control_exchange; default "mogan".
	ControlExchange string
	// PublisherID is "mogan-api:<host>"; default "mogan-api:" + hostname.
	PublisherID string
	// Topics are the notification topics; default [versioned_notifications].
	// Each notification is published once per topic, with routing key
	// "<topic>.<priority>".
	Topics []string
	// BufferSize bounds the messagingv2 queue; default 1000.
	BufferSize int
	// Logger gets the log driver's lines and the publisher's errors.
	Logger hclog.Logger
}

// New returns the notifier cfg.Driver names. An unusable configuration is
// an error naming the option to fix; a broker that is down is not (the
// messagingv2 publisher connects lazily and keeps retrying). ctx carries
// values only: the publisher lives until Close.
func New(ctx context.Context, cfg Config) (Notifier, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	switch cfg.Driver {
	case "", DriverNoop:
		return noop{}, nil
	case DriverLog:
		return &logNotifier{cfg: cfg}, nil
	case DriverMessagingV2:
		return newAMQP(ctx, cfg, defaultTuning())
	case "messaging":
		return nil, fmt.Errorf("[oslo_messaging_notifications] driver = messaging (oslo's 1.0 envelope) is not supported: set driver = messagingv2")
	default:
		return nil, fmt.Errorf("[oslo_messaging_notifications] driver = %q is not supported: set driver to noop, log or messagingv2", cfg.Driver)
	}
}

func withDefaults(cfg Config) (Config, error) {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.ControlExchange == "" {
		cfg.ControlExchange = "mogan"
	}
	if cfg.PublisherID == "" {
		host, err := os.Hostname()
		if err != nil {
			host = "localhost"
		}
		cfg.PublisherID = "mogan-api:" + host
	}
	if len(cfg.Topics) == 0 {
		cfg.Topics = []string{DefaultTopic}
	}
	for _, t := range cfg.Topics {
		if strings.TrimSpace(t) == "" {
			return cfg, fmt.Errorf("[oslo_messaging_notifications] topics has an empty topic: remove it")
		}
	}
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = 1000
	}
	return cfg, nil
}

// noop is oslo's "noop" driver: notifications are off.
type noop struct{}

func (noop) Notify(context.Context, Notification) {}
func (noop) Close(context.Context) error          { return nil }
func (noop) Dropped() uint64                      { return 0 }
