// Package requestid carries a request's id ("req-<uuid>", OpenStack's
// format) through a context: from the host's HTTP API to the driver plugin
// (gRPC metadata) and on to Ironic, Glance and Neutron as OpenStack's
// global request id (the X-OpenStack-Request-ID header, which their oslo
// middleware records), so one id finds a request in every log.
package requestid

import (
	"context"
	"regexp"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"
)

// Header is the HTTP header that carries the id, in a response (the
// request's own id) and in a request to an OpenStack service (the global
// request id).
const Header = "X-OpenStack-Request-ID"

// MetadataKey is the gRPC metadata key that carries the id from the host
// to a plugin (gRPC keys are lower case).
const MetadataKey = "x-openstack-request-id"

// LogKey is the key of the id in log lines.
const LogKey = "request_id"

type ctxKey struct{}

// New returns a new id, "req-<uuid>".
func New() string { return "req-" + uuid.NewString() }

// valid is oslo's format of a global request id: oslo.middleware drops
// any other value of the header.
var valid = regexp.MustCompile(`^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// Valid reports whether id has oslo's format, "req-<uuid>" (lower case).
func Valid(id string) bool { return valid.MatchString(id) }

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the id ctx carries, "" when none.
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Logger returns log with the id of ctx (key LogKey), or log itself when
// ctx carries none: every line of a request then names it.
func Logger(ctx context.Context, log hclog.Logger) hclog.Logger {
	if id := From(ctx); id != "" {
		return log.With(LogKey, id)
	}
	return log
}
