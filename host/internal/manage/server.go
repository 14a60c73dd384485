package manage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// Server statuses.
const (
	StatusBuilding = store.StatusBuilding // claimed; adoption in progress or being repaired
	StatusActive   = store.StatusActive
	StatusStopped  = store.StatusStopped
	StatusError    = store.StatusError
)

// Server is an adopted bare metal server. Optional strings are empty when
// unset.
type Server struct {
	UUID string
	// Backend is the backend holding the server's node.
	Backend          string
	Name             string
	Description      string
	NodeUUID         string
	NodeName         string
	ImageUUID        string
	FlavorUUID       string
	Status           string
	PowerState       string
	Locked           bool
	ProjectID        string
	UserID           string
	AvailabilityZone string
	AffinityZone     string
	KeyName          string
	Metadata         map[string]string
	SystemMetadata   map[string]string
	// Addresses are the fixed IPs of the bound Neutron ports, by network id.
	Addresses  map[string][]Address
	Partitions map[string]int64
	CreatedAt  time.Time
	LaunchedAt *time.Time
	UpdatedAt  *time.Time
	// Fault says why the server is in error.
	Fault string
}

// Address is one fixed IP of a server on a network.
type Address struct {
	Addr string
	Type string
}

// Node, Port and Portgroup are a machine as the driver reports it; the
// listing's values are enriched (unknown Glance or Neutron ids emptied).
type (
	Node      = driver.Node
	Port      = driver.Port
	Portgroup = driver.Portgroup
)

// Caller is who asks, for the record, the audit trail and notifications.
type Caller struct {
	RequestID   string
	UserID      string
	UserName    string
	ProjectID   string
	ProjectName string
	Roles       []string
	IsAdmin     bool
}

func serverFromRecord(r store.Server) Server {
	s := Server{
		UUID: r.UUID, Backend: r.Backend, Name: r.Name, Description: r.Description, NodeUUID: r.NodeUUID, NodeName: r.NodeName,
		ImageUUID: r.ImageUUID, FlavorUUID: r.FlavorUUID, Status: r.Status, PowerState: r.PowerState,
		Locked: r.Locked, ProjectID: r.ProjectID, UserID: r.UserID, AvailabilityZone: r.AvailabilityZone,
		AffinityZone: r.AffinityZone, KeyName: r.KeyName, Metadata: r.Metadata, SystemMetadata: r.SystemMetadata,
		Partitions: r.Partitions, CreatedAt: r.CreatedAt, LaunchedAt: r.LaunchedAt, UpdatedAt: r.UpdatedAt,
		Fault: r.Fault,
	}
	if r.Addresses != nil {
		s.Addresses = make(map[string][]Address, len(r.Addresses))
		for net, addrs := range r.Addresses {
			for _, a := range addrs {
				s.Addresses[net] = append(s.Addresses[net], Address(a))
			}
		}
	}
	return s
}

// ListServersOptions page through servers, oldest first.
type ListServersOptions struct {
	Limit  int
	Marker string
	// ProjectID keeps one project's servers; empty keeps all.
	ProjectID string
}

// GetServer returns one server: ErrServerNotFound when there is none.
func (s *Service) GetServer(ctx context.Context, uuid string) (Server, error) {
	r, err := s.store.GetServer(ctx, uuid)
	if errors.Is(err, store.ErrNotFound) {
		return Server{}, &refusal{kind: ErrServerNotFound, msg: fmt.Sprintf("Server %s could not be found.", uuid)}
	}
	if err != nil {
		return Server{}, err
	}
	return serverFromRecord(r), nil
}

// ListServers pages through servers: ErrMarkerNotFound for an unknown
// marker.
func (s *Service) ListServers(ctx context.Context, opts ListServersOptions) ([]Server, error) {
	recs, err := s.store.ListServers(ctx, store.ListOptions{Limit: opts.Limit, Marker: opts.Marker, ProjectID: opts.ProjectID})
	if errors.Is(err, store.ErrNotFound) {
		return nil, &refusal{kind: ErrMarkerNotFound, msg: fmt.Sprintf("Marker %s could not be found.", opts.Marker)}
	}
	if err != nil {
		return nil, err
	}
	out := make([]Server, len(recs))
	for i, r := range recs {
		out[i] = serverFromRecord(r)
	}
	return out, nil
}
