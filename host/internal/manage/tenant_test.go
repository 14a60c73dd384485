package manage

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/host/internal/notify"
)

// TestAdoptIntoAnotherProject: an admin adopts into a tenant's project.
// The server, and the server in every notification's payload, belong to
// the tenant; the notifications' context and the action record name the
// acting admin.
func TestAdoptIntoAnotherProject(t *testing.T) {
	e := newEnv(t)
	admin := Caller{RequestID: "req-admin", UserID: "admin-user", ProjectID: "admin-project", Roles: []string{"admin"}, IsAdmin: true}
	srv, err := e.svc.Adopt(t.Context(), Request{Name: "tenant's", NodeUUID: nodeA, ProjectID: "project-b", UserID: "user-u", Caller: admin})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.store.GetServer(t.Context(), srv.UUID)
	if err != nil {
		t.Fatal(err)
	}
	type owners struct{ Project, User string }
	if diff := cmp.Diff(owners{"project-b", "user-u"}, owners{rec.ProjectID, rec.UserID}); diff != "" {
		t.Errorf("stored owner (-want +got):\n%s", diff)
	}

	type seen struct {
		Event                       string
		PayloadProject, PayloadUser any
		ContextProject, ContextUser string
		ContextIsAdmin              bool
	}
	var got []seen
	for _, n := range e.events.events {
		data, _ := n.Payload.(notify.VersionedObject).Data.(map[string]any)
		got = append(got, seen{n.EventType, data["project_id"], data["user_id"], n.Context.ProjectID, n.Context.UserID, n.Context.IsAdmin})
	}
	want := []seen{
		{eventManageStart, "project-b", "user-u", "admin-project", "admin-user", true},
		{eventManageEnd, "project-b", "user-u", "admin-project", "admin-user", true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}

	actions, err := e.svc.ServerActions(t.Context(), srv.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if len(actions) != 1 || actions[0].UserID != "admin-user" || actions[0].ProjectID != "admin-project" {
		t.Errorf("actions %+v; want one, by the admin", actions)
	}
}
