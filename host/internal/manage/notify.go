package manage

import (
	"context"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/errkind"
	"github.com/mogan-manage/mogan-manage/host/internal/notify"
)

// The events of the spec's "Notification about the adopt action".
const (
	eventManageStart   = "server.manage.start"
	eventManageEnd     = "server.manage.end"
	eventManageError   = "server.manage.error"
	eventUnmanageStart = "server.unmanage.start"
	eventUnmanageEnd   = "server.unmanage.end"
	eventUnmanageError = "server.unmanage.error"
)

// notifyServer sends one event about srv; cause makes it an .error with a
// fault. It never blocks or fails the workflow.
func (s *Service) notifyServer(ctx context.Context, caller Caller, event string, srv Server, cause error) {
	n := notify.Notification{
		EventType: event,
		Priority:  notify.Info,
		Context: notify.RequestContext{
			RequestID: caller.RequestID, UserID: caller.UserID, ProjectID: caller.ProjectID,
			UserName: caller.UserName, ProjectName: caller.ProjectName, Roles: caller.Roles, IsAdmin: caller.IsAdmin,
		},
	}
	data := serverPayload(srv)
	if cause != nil {
		n.Priority = notify.Error
		data["fault"] = notify.Fault{Exception: exceptionName(cause), ExceptionMessage: cause.Error()}
	}
	n.Payload = notify.NewServerActionPayload(data)
	s.notifier.Notify(ctx, n)
}

// serverPayload is the server's fields in ServerActionPayload's data:
// upstream's server fields, node (the node's name, as upstream) and
// node_uuid.
func serverPayload(srv Server) map[string]any {
	metadata := srv.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}
	return map[string]any{
		"uuid":              srv.UUID,
		"name":              nullable(srv.Name),
		"description":       nullable(srv.Description),
		"status":            nullable(srv.Status),
		"power_state":       nullable(srv.PowerState),
		"project_id":        nullable(srv.ProjectID),
		"user_id":           nullable(srv.UserID),
		"image_uuid":        nullable(srv.ImageUUID),
		"flavor_uuid":       nullable(srv.FlavorUUID),
		"availability_zone": nullable(srv.AvailabilityZone),
		"affinity_zone":     nullable(srv.AffinityZone),
		"key_name":          nullable(srv.KeyName),
		"metadata":          metadata,
		"node":              nullable(srv.NodeName),
		"node_uuid":         nullable(srv.NodeUUID),
		"created_at":        timeOrNil(&srv.CreatedAt),
		"launched_at":       timeOrNil(srv.LaunchedAt),
		"updated_at":        timeOrNil(srv.UpdatedAt),
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeOrNil(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// exceptionName names an error's kind the way upstream names exception
// classes, for the fault's "exception" (errkind's table).
func exceptionName(err error) string {
	return errkind.Of(err).Exception
}
