package api

import (
	"net/http"

	"github.com/mogan-manage/mogan-manage/host/internal/manage"
)

// planView is the answer of POST /v1/manageable_servers?dry_run=true: the
// server the adoption would record (no uuid yet, so no links), the
// Neutron ports it would bind and the image it found.
type planView struct {
	DryRun      bool              `json:"dry_run"`
	Server      plannedServerView `json:"server"`
	PortsToBind []portToBindView  `json:"ports_to_bind"`
	ImageUUID   *string           `json:"image_uuid"`
}

// plannedServerView is a server body whose uuid is null: the outer UUID
// field hides the embedded one (encoding/json prefers the shallower).
type plannedServerView struct {
	serverView
	UUID *string `json:"uuid"`
}

type portToBindView struct {
	PortID     string `json:"port_id"`
	NetworkID  string `json:"network_id"`
	MACAddress string `json:"mac_address"`
}

// planServer answers a dry run of req: every check the adoption makes
// (manage.Service.Plan), nothing written, nothing sent.
func (s *Server) planServer(w http.ResponseWriter, r *http.Request, req manage.Request) {
	p, err := s.manage.Plan(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPlanView(p, s.baseURL(r), s.isAdmin(r.Context())))
}

func newPlanView(p manage.Plan, base string, admin bool) planView {
	server := newServerView(p.Server, base, admin)
	server.Links = []link{}
	v := planView{
		DryRun:      true,
		Server:      plannedServerView{serverView: server},
		PortsToBind: make([]portToBindView, len(p.Bindings)),
		ImageUUID:   nullable(p.ImageUUID),
	}
	for i, b := range p.Bindings {
		v.PortsToBind[i] = portToBindView{PortID: b.PortID, NetworkID: b.NetworkID, MACAddress: b.MACAddress}
	}
	return v
}
