package api

import (
	"net/http"

	"github.com/mogan-manage/mogan-manage/host/internal/policy"
	"github.com/mogan-manage/mogan-manage/shared/osclient"
)

// backendView is one backend as GET /v1/backends shows it.
type backendView struct {
	Name         string   `json:"name"`
	Driver       *string  `json:"driver"`
	Version      *string  `json:"version"`
	Capabilities []string `json:"capabilities"`
	// Status is "up" or "down"; Reason says why it is down.
	Status string  `json:"status"`
	Reason *string `json:"reason,omitempty"`
}

// listBackends answers GET /v1/backends (admin): every backend in its
// configured order, its driver as the plugin describes itself, and
// whether it answers now.
func (s *Server) listBackends(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := s.authorize(ctx, policy.BackendsGetAll, nil); err != nil {
		s.writeError(w, r, err)
		return
	}
	statuses := s.manage.BackendStatuses(ctx)
	out := make([]backendView, len(statuses))
	for i, st := range statuses {
		v := backendView{Name: st.Name, Driver: nullable(st.Info.Name), Version: nullable(st.Info.Version),
			Capabilities: st.Info.Capabilities, Status: "up"}
		if v.Capabilities == nil {
			v.Capabilities = []string{}
		}
		if st.Err != nil {
			reason := osclient.RedactText(st.Err.Error())
			v.Status, v.Reason = "down", &reason
		}
		out[i] = v
	}
	writeJSON(w, http.StatusOK, map[string]any{"backends": out})
}
