package api

import (
	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// The JSON shapes of the migration routes. As the server views, unknown
// or absent values are null and timestamps are upstream's.

// migrationView is a migration as GET /v1/migrations/{uuid} shows it.
type migrationView struct {
	UUID       string              `json:"uuid"`
	Status     string              `json:"status"`
	Source     migrationSourceView `json:"source"`
	Target     migrationTargetView `json:"target"`
	NodeUUID   string              `json:"node_uuid"`
	ServerUUID *string             `json:"server_uuid"`
	Steps      []migrationStepView `json:"steps"`
	RequestID  *string             `json:"request_id"`
	Error      *string             `json:"error"`
	CreatedAt  *string             `json:"created_at"`
	UpdatedAt  *string             `json:"updated_at"`
	Links      []link              `json:"links"`
}

// migrationSourceView is {"machine": {"name": …}} for a described
// machine, {"backend", "node_uuid"} for a source backend's node.
type migrationSourceView struct {
	Machine  *machineNameView `json:"machine,omitempty"`
	Backend  string           `json:"backend,omitempty"`
	NodeUUID string           `json:"node_uuid,omitempty"`
}

type machineNameView struct {
	Name *string `json:"name"`
}

type migrationTargetView struct {
	Backend string `json:"backend"`
}

type migrationStepView struct {
	Name       string  `json:"name"`
	Status     string  `json:"status"`
	StartedAt  *string `json:"started_at"`
	FinishedAt *string `json:"finished_at"`
	Error      *string `json:"error"`
}

// migrationListView is GET /v1/migrations's answer.
type migrationListView struct {
	Migrations []migrationView `json:"migrations"`
	Links      []link          `json:"migrations_links,omitempty"`
}

func migrationLinks(base, uuid string) []link {
	return []link{
		{Href: base + "/v1/migrations/" + uuid, Rel: "self"},
		{Href: base + "/migrations/" + uuid, Rel: "bookmark"},
	}
}

func newMigrationSourceView(sourceBackend, nodeUUID, machineName string) migrationSourceView {
	if sourceBackend != "" {
		return migrationSourceView{Backend: sourceBackend, NodeUUID: nodeUUID}
	}
	return migrationSourceView{Machine: &machineNameView{Name: nullable(machineName)}}
}

func newMigrationView(m manage.Migration, base string) migrationView {
	v := migrationView{
		UUID:       m.UUID,
		Status:     m.Status,
		Source:     newMigrationSourceView(m.SourceBackend, m.NodeUUID, m.SourceMachine),
		Target:     migrationTargetView{Backend: m.TargetBackend},
		NodeUUID:   m.NodeUUID,
		ServerUUID: nullable(m.ServerUUID),
		Steps:      make([]migrationStepView, len(m.Steps)),
		RequestID:  nullable(m.RequestID),
		Error:      nullable(m.Error),
		CreatedAt:  timestamp(&m.CreatedAt),
		UpdatedAt:  timestamp(&m.UpdatedAt),
		Links:      migrationLinks(base, m.UUID),
	}
	for i, st := range m.Steps {
		v.Steps[i] = migrationStepView{Name: st.Name, Status: st.Status, StartedAt: timestamp(st.StartedAt),
			FinishedAt: timestamp(st.FinishedAt), Error: nullable(st.Error)}
	}
	return v
}

// migrationPlanView is the answer of POST /v1/migrations?dry_run=true:
// what the migration would create where — the target backend and node
// uuid, the machine (secrets named, never their values), the Neutron
// ports it would create or reuse, and the server it would adopt the node
// as (null: none, the node stays manageable).
type migrationPlanView struct {
	DryRun   bool                 `json:"dry_run"`
	Source   migrationSourceView  `json:"source"`
	Target   migrationTargetView  `json:"target"`
	NodeUUID string               `json:"node_uuid"`
	Machine  driver.Machine       `json:"machine"`
	Ports    []plannedPortView    `json:"ports"`
	Server   *plannedServerFields `json:"server"`
}

// plannedPortView is one NIC's Neutron port: "reuse" names the port,
// "create" has a null port_id.
type plannedPortView struct {
	Action     string   `json:"action"`
	MACAddress string   `json:"mac_address"`
	NetworkID  string   `json:"network_id"`
	FixedIPs   []string `json:"fixed_ips"`
	PortID     *string  `json:"port_id"`
}

// plannedServerFields is the server a migration would adopt its node as,
// as the body asked for it (an absent owner: the caller's).
type plannedServerFields struct {
	Name        string            `json:"name"`
	Description *string           `json:"description"`
	Metadata    map[string]string `json:"metadata"`
	ProjectID   *string           `json:"project_id"`
	UserID      *string           `json:"user_id"`
}

func newMigrationPlanView(p manage.MigrationPlan) migrationPlanView {
	v := migrationPlanView{
		DryRun:   true,
		Source:   newMigrationSourceView(p.SourceBackend, p.NodeUUID, p.Machine.Name),
		Target:   migrationTargetView{Backend: p.TargetBackend},
		NodeUUID: p.NodeUUID,
		Machine:  p.Machine,
		Ports:    make([]plannedPortView, len(p.Ports)),
	}
	for i, port := range p.Ports {
		action := "create"
		if port.PortID != "" {
			action = "reuse"
		}
		fixed := port.FixedIPs
		if fixed == nil {
			fixed = []string{}
		}
		v.Ports[i] = plannedPortView{Action: action, MACAddress: port.MAC, NetworkID: port.NetworkID, FixedIPs: fixed,
			PortID: nullable(port.PortID)}
	}
	if srv := p.Server; srv != nil {
		v.Server = &plannedServerFields{Name: srv.Name, Description: nullable(srv.Description), Metadata: srv.Metadata,
			ProjectID: nullable(srv.ProjectID), UserID: nullable(srv.UserID)}
		if v.Server.Metadata == nil {
			v.Server.Metadata = map[string]string{}
		}
	}
	return v
}
