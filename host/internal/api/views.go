package api

import (
	"time"

	"github.com/mogan-manage/mogan-manage/host/internal/manage"
)

// The JSON shapes of upstream Mogan's samples. Optional values are
// pointers so that "unknown" is null, as upstream sends it.

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type portView struct {
	Address       string  `json:"address"`
	UUID          string  `json:"uuid"`
	NeutronPortID *string `json:"neutron_port_id"`
}

type portgroupView struct {
	Address       string  `json:"address"`
	UUID          string  `json:"uuid"`
	Mode          *string `json:"mode"`
	NeutronPortID *string `json:"neutron_port_id"`
}

// manageableServerView is one entry of manageable-servers-list-resp.json.
// Manageable and Reason appear only in ?all=true listings.
type manageableServerView struct {
	UUID           string          `json:"uuid"`
	Name           *string         `json:"name"`
	ResourceClass  *string         `json:"resource_class"`
	PowerState     *string         `json:"power_state"`
	ProvisionState *string         `json:"provision_state"`
	Ports          []portView      `json:"ports"`
	Portgroups     []portgroupView `json:"portgroups"`
	ImageSource    *string         `json:"image_source"`
	Manageable     *bool           `json:"manageable,omitempty"`
	Reason         *string         `json:"reason,omitempty"`
	// Backend is this project's addition: the backend holding the node.
	Backend string `json:"backend"`
}

func newManageableServerView(backend string, n manage.Node, withManageability bool) manageableServerView {
	v := manageableServerView{
		Backend:        backend,
		UUID:           n.UUID,
		Name:           nullable(n.Name),
		ResourceClass:  nullable(n.ResourceClass),
		PowerState:     nullable(n.PowerState),
		ProvisionState: nullable(n.ProvisionState),
		Ports:          make([]portView, len(n.Ports)),
		Portgroups:     make([]portgroupView, len(n.Portgroups)),
		ImageSource:    nullable(n.ImageSource),
	}
	for i, p := range n.Ports {
		v.Ports[i] = portView{Address: p.Address, UUID: p.UUID, NeutronPortID: nullable(p.NeutronPortID)}
	}
	for i, pg := range n.Portgroups {
		v.Portgroups[i] = portgroupView{Address: pg.Address, UUID: pg.UUID, Mode: nullable(pg.Mode), NeutronPortID: nullable(pg.NeutronPortID)}
	}
	if withManageability {
		manageable := n.Manageable
		v.Manageable = &manageable
		if !manageable {
			reason := n.Reason
			if reason == "" {
				reason = "the driver gave no reason"
			}
			v.Reason = &reason
		}
	}
	return v
}

// serverView is a server as server-detail-resp.json and
// server-manage-resp.json show it.
type serverView struct {
	UUID             string                   `json:"uuid"`
	Name             string                   `json:"name"`
	Description      *string                  `json:"description"`
	NodeUUID         string                   `json:"node_uuid"`
	Node             *string                  `json:"node"`
	ImageUUID        *string                  `json:"image_uuid"`
	FlavorUUID       *string                  `json:"flavor_uuid"`
	Status           string                   `json:"status"`
	PowerState       *string                  `json:"power_state"`
	Locked           bool                     `json:"locked"`
	Metadata         map[string]string        `json:"metadata"`
	SystemMetadata   map[string]string        `json:"system_metadata,omitempty"`
	Links            []link                   `json:"links"`
	Addresses        map[string][]addressView `json:"addresses"`
	ProjectID        string                   `json:"project_id"`
	UserID           string                   `json:"user_id"`
	CreatedAt        *string                  `json:"created_at"`
	LaunchedAt       *string                  `json:"launched_at"`
	UpdatedAt        *string                  `json:"updated_at"`
	AvailabilityZone *string                  `json:"availability_zone"`
	AffinityZone     *string                  `json:"affinity_zone"`
	KeyName          *string                  `json:"key_name"`
	Partitions       map[string]int64         `json:"partitions"`
	// Backend is this project's addition: the backend holding the node.
	Backend string `json:"backend"`
	// Fault is upstream's, shown only while the server is in error.
	Fault *faultView `json:"fault,omitempty"`
}

// faultView is why a server is in error, as
// server-detail-resp-when-error.json shows it.
type faultView struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Detail  string `json:"detail"`
}

// serverBriefView is an entry of server-list-resp.json.
type serverBriefView struct {
	UUID        string  `json:"uuid"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Status      string  `json:"status"`
	PowerState  *string `json:"power_state"`
	Links       []link  `json:"links"`
}

// timestamp formats like Python's isoformat() on an aware UTC datetime,
// which is what upstream sends.
func timestamp(t *time.Time) *string {
	if t == nil || t.IsZero() {
		return nil
	}
	s := t.UTC().Format("2006-01-02T15:04:05.000000-07:00")
	return &s
}

func serverLinks(base, uuid string) []link {
	return []link{
		{Href: base + "/v1/servers/" + uuid, Rel: "self"},
		{Href: base + "/servers/" + uuid, Rel: "bookmark"},
	}
}

// addressView is one fixed IP, as upstream's code returns it.
type addressView struct {
	Addr string `json:"addr"`
	Type string `json:"type"`
}

func newServerView(srv manage.Server, base string, admin bool) serverView {
	v := serverView{
		UUID:             srv.UUID,
		Name:             srv.Name,
		Description:      nullable(srv.Description),
		NodeUUID:         srv.NodeUUID,
		Node:             nullable(srv.NodeName),
		ImageUUID:        nullable(srv.ImageUUID),
		FlavorUUID:       nullable(srv.FlavorUUID),
		Status:           srv.Status,
		PowerState:       nullable(srv.PowerState),
		Locked:           srv.Locked,
		Metadata:         srv.Metadata,
		Links:            serverLinks(base, srv.UUID),
		Addresses:        make(map[string][]addressView, len(srv.Addresses)),
		ProjectID:        srv.ProjectID,
		UserID:           srv.UserID,
		CreatedAt:        timestamp(&srv.CreatedAt),
		LaunchedAt:       timestamp(srv.LaunchedAt),
		UpdatedAt:        timestamp(srv.UpdatedAt),
		AvailabilityZone: nullable(srv.AvailabilityZone),
		AffinityZone:     nullable(srv.AffinityZone),
		KeyName:          nullable(srv.KeyName),
		Partitions:       srv.Partitions,
		Backend:          srv.Backend,
	}
	// python-moganclient needs objects here, never null.
	if v.Metadata == nil {
		v.Metadata = map[string]string{}
	}
	if srv.Status == manage.StatusError && srv.Fault != "" {
		v.Fault = &faultView{Code: 500, Message: srv.Fault, Detail: srv.Fault}
	}
	for net, addrs := range srv.Addresses {
		v.Addresses[net] = make([]addressView, len(addrs))
		for i, a := range addrs {
			v.Addresses[net][i] = addressView(a)
		}
	}
	if admin {
		v.SystemMetadata = srv.SystemMetadata
		if v.SystemMetadata == nil {
			v.SystemMetadata = map[string]string{}
		}
	}
	return v
}

func newServerBriefView(srv manage.Server, base string) serverBriefView {
	return serverBriefView{
		UUID:        srv.UUID,
		Name:        srv.Name,
		Description: nullable(srv.Description),
		Status:      srv.Status,
		PowerState:  nullable(srv.PowerState),
		Links:       serverLinks(base, srv.UUID),
	}
}
