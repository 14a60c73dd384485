package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mogan-manage/mogan-manage/testenv/cloud"
	"github.com/mogan-manage/mogan-manage/testenv/holdproxy"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// The whole workflow against real Ironic, Glance and Neutron: images and
// ports looked up, MACs checked, ports bound and released, and the host
// killed while it binds.

func startCloud(t *testing.T, adoptable int) (*cloud.Cloud, []ironic.Node) {
	t.Helper()
	c, err := cloud.Start(t.Context(), cloud.Options{Dir: t.TempDir(), Glance: true, Neutron: true, DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	nodes, err := c.Enroll(t.Context(), ironic.Mix{Adoptable: adoptable})
	if err != nil {
		t.Fatal(err)
	}
	return c, nodes
}

// cloudHostConfig is a host on c's services; neutronURL may be a proxy.
func cloudHostConfig(t *testing.T, c *cloud.Cloud, db, neutronURL, extra string) string {
	t.Helper()
	return ironicHostConfig(t, db, c.Ironic.URL, fmt.Sprintf(
		"[glance]\nurl = %s\nauth_type = none\n[neutron]\nurl = %s\nauth_type = none\n", c.Glance.URL, neutronURL)+extra)
}

// vifsOf are the Neutron ports a driver reports for the node.
func vifsOf(n ironic.Node) []string {
	var out []string
	for _, p := range n.Ports {
		if p.NeutronPortID != "" {
			out = append(out, p.NeutronPortID)
		}
	}
	for _, pg := range n.Portgroups {
		if pg.NeutronPortID != "" {
			out = append(out, pg.NeutronPortID)
		}
	}
	return out
}

// bindings reads the binding of each port from Neutron.
func bindings(t *testing.T, c *cloud.Cloud, ports []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range ports {
		host, vnic, err := c.Binding(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = host + "/" + vnic
	}
	return out
}

type manageableNode struct {
	UUID        string  `json:"uuid"`
	ImageSource *string `json:"image_source"`
	Ports       []struct {
		NeutronPortID *string `json:"neutron_port_id"`
	} `json:"ports"`
}

func listManageable(t *testing.T, hostURL string) (map[string]manageableNode, int, string) {
	t.Helper()
	code, body := status(t, hostURL+"/v1/manageable_servers")
	var list struct {
		Nodes []manageableNode `json:"manageable_servers"`
	}
	out := map[string]manageableNode{}
	if code == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatal(err)
		}
		for _, n := range list.Nodes {
			out[n.UUID] = n
		}
	}
	return out, code, body
}

func TestAdoptWithGlanceAndNeutron(t *testing.T) {
	c, nodes := startCloud(t, 5)
	ctx := t.Context()
	plain, urlImage, lostPort, badMAC, vanishing := nodes[0], nodes[1], nodes[2], nodes[3], nodes[4]
	if err := c.SetImageSource(ctx, urlImage.UUID, "http://images.example/disk.qcow2"); err != nil {
		t.Fatal(err)
	}
	lost := lostPort.Ports[0].NeutronPortID
	if err := c.DeleteNeutronPort(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if err := c.SetNeutronMAC(ctx, vifsOf(badMAC)[0], "52:54:00:12:34:56"); err != nil {
		t.Fatal(err)
	}
	// Neutron behind a proxy, to delete a port while its binding is held.
	neutronProxy, err := holdproxy.Start(c.Neutron.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(neutronProxy.Close)
	dbPath := filepath.Join(t.TempDir(), "mogan.sqlite")
	h := startHost(t, cloudHostConfig(t, c, "sqlite://"+dbPath, neutronProxy.URL, ""))

	// The listing: known images and ports by id, the rest null.
	listed, code, body := listManageable(t, h.URL)
	if code != http.StatusOK {
		t.Fatalf("list: %d %s", code, body)
	}
	if got := listed[plain.UUID].ImageSource; got == nil || *got != plain.ImageSource {
		t.Errorf("image_source of a Glance image = %v, want %s", got, plain.ImageSource)
	}
	if got := listed[urlImage.UUID].ImageSource; got != nil {
		t.Errorf("image_source of a URL = %q, want null", *got)
	}
	if got := listed[lostPort.UUID].Ports[0].NeutronPortID; got != nil {
		t.Errorf("neutron_port_id of a deleted port = %q, want null", *got)
	}

	// Adopt: the ports are bound to the node, the addresses come from them.
	before := bindings(t, c, vifsOf(plain))
	code, adoptRequest, body := postWithID(t, h.URL+"/v1/manageable_servers", `{"name": "web-1", "node_uuid": "`+plain.UUID+`"}`)
	if code != http.StatusCreated {
		t.Fatalf("adopt: %d %s", code, body)
	}
	var srv struct {
		UUID      string                         `json:"uuid"`
		ImageUUID *string                        `json:"image_uuid"`
		Addresses map[string][]map[string]string `json:"addresses"`
	}
	if err := json.Unmarshal([]byte(body), &srv); err != nil {
		t.Fatal(err)
	}
	if srv.ImageUUID == nil || *srv.ImageUUID != plain.ImageSource {
		t.Errorf("image_uuid = %v, want %s", srv.ImageUUID, plain.ImageSource)
	}
	if addrs := srv.Addresses[c.NetworkID]; len(addrs) != len(vifsOf(plain)) || addrs[0]["type"] != "fixed" ||
		!strings.HasPrefix(addrs[0]["addr"], "10.20.") {
		t.Errorf("addresses = %v, want one fixed 10.20.x address per port on %s", srv.Addresses, c.NetworkID)
	}
	for port, b := range bindings(t, c, vifsOf(plain)) {
		if b != plain.UUID+"/baremetal" {
			t.Errorf("port %s binding after adoption = %s", port, b)
		}
	}
	if inst, _ := c.InstanceUUID(ctx, plain.UUID); inst != srv.UUID {
		t.Errorf("Ironic instance_uuid = %q, want %s", inst, srv.UUID)
	}
	// The audit trail: the adoption, by the caller (noauth's admin), with
	// its request id.
	adoptedAction := actionRow{Action: "manage", ServerUUID: srv.UUID, RequestID: adoptRequest, UserID: "admin",
		ProjectID: "admin", Result: "success"}
	if got := serverActions(t, h.URL, srv.UUID); len(got) != 1 || !sameAction(got[0], adoptedAction) {
		t.Errorf("actions after the adoption = %+v, want %+v", got, adoptedAction)
	}

	// The variants: a URL image is no image; a deleted port is skipped.
	code, body = post(t, h.URL+"/v1/manageable_servers", `{"name": "u", "node_uuid": "`+urlImage.UUID+`"}`)
	if code != http.StatusCreated || !strings.Contains(body, `"image_uuid":null`) {
		t.Errorf("adopt with a URL image: %d %s", code, body)
	}
	code, body = post(t, h.URL+"/v1/manageable_servers", `{"name": "l", "node_uuid": "`+lostPort.UUID+`"}`)
	if code != http.StatusCreated {
		t.Errorf("adopt with a deleted Neutron port: %d %s", code, body)
	}

	// A MAC mismatch: 409 naming both MACs, nothing changed.
	badBefore := bindings(t, c, vifsOf(badMAC))
	code, body = post(t, h.URL+"/v1/manageable_servers", `{"name": "m", "node_uuid": "`+badMAC.UUID+`"}`)
	if code != http.StatusConflict || !strings.Contains(body, "52:54:00:12:34:56") || !strings.Contains(body, badMAC.Ports[0].Address) {
		t.Errorf("adopt with a MAC mismatch: %d %s", code, body)
	}
	if inst, _ := c.InstanceUUID(ctx, badMAC.UUID); inst != "" {
		t.Errorf("refused node associated with %s", inst)
	}
	if got := bindings(t, c, vifsOf(badMAC)); fmt.Sprint(got) != fmt.Sprint(badBefore) {
		t.Errorf("bindings changed by a refused adoption: %v, were %v", got, badBefore)
	}

	// Release: the bindings are back as they were; both actions stay
	// readable (by the admin) after the server is gone.
	code, releaseRequest, body := postWithID(t, h.URL+"/v1/servers/"+srv.UUID+"/unmanage", "")
	if code != http.StatusNoContent {
		t.Fatalf("unmanage: %d %s", code, body)
	}
	if got := bindings(t, c, vifsOf(plain)); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("bindings after unmanage = %v, want %v", got, before)
	}
	if code, _ := status(t, h.URL+"/v1/servers/"+srv.UUID); code != http.StatusNotFound {
		t.Errorf("the released server reads %d, want 404", code)
	}
	releasedAction := adoptedAction
	releasedAction.Action, releasedAction.RequestID = "unmanage", releaseRequest
	if got := serverActions(t, h.URL, srv.UUID); len(got) != 2 || !sameAction(got[0], releasedAction) || !sameAction(got[1], adoptedAction) {
		t.Errorf("actions after the release = %+v, want the release then the adoption", got)
	}
	if got := serverActionByRequest(t, h.URL, srv.UUID, adoptRequest); !sameAction(got, adoptedAction) {
		t.Errorf("action %s = %+v", adoptRequest, got)
	}

	// A rollback: a Neutron port deleted while its binding is held makes
	// the adoption fail (409) and roll back; its action is an error with
	// the fault the client got.
	gone := vifsOf(vanishing)[0]
	hold := neutronProxy.Hold(http.MethodPut, `/ports/`+gone, holdproxy.BeforeForward)
	type result struct {
		code     int
		id, body string
	}
	done := make(chan result, 1)
	go func() {
		code, id, body := postWithID(t, h.URL+"/v1/manageable_servers", `{"name": "v", "node_uuid": "`+vanishing.UUID+`"}`)
		done <- result{code, id, body}
	}()
	<-hold.Reached
	if err := c.DeleteNeutronPort(ctx, gone); err != nil {
		t.Fatal(err)
	}
	hold.Release()
	failed := <-done
	if failed.code != http.StatusConflict || !strings.Contains(failed.body, gone) {
		t.Fatalf("adoption whose port vanished: %d %s; want 409 naming %s", failed.code, failed.body, gone)
	}
	if inst, _ := c.InstanceUUID(ctx, vanishing.UUID); inst != "" {
		t.Errorf("rolled-back node associated with %s", inst)
	}
	rolledBack := actionServer(t, dbPath, failed.id)
	got := serverActions(t, h.URL, rolledBack)
	wantFault := bodyFaultString(t, failed.body)
	if len(got) != 1 || got[0].Result != "error" || got[0].Message == nil || *got[0].Message != wantFault ||
		got[0].RequestID != failed.id || got[0].Action != "manage" {
		t.Errorf("actions of the rolled-back adoption = %+v; want one error with %q", got, wantFault)
	}

	// Glance or Neutron down: 503 naming it, never silent nulls.
	c.Glance.Stop()
	if _, code, body := listManageable(t, h.URL); code != http.StatusServiceUnavailable || !strings.Contains(body, "Glance") {
		t.Errorf("list with Glance down: %d %s", code, body)
	}
	code, body = post(t, h.URL+"/v1/manageable_servers", `{"name": "g", "node_uuid": "`+plain.UUID+`"}`)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "Glance") {
		t.Errorf("adopt with Glance down: %d %s", code, body)
	}
	if inst, _ := c.InstanceUUID(ctx, plain.UUID); inst != "" {
		t.Errorf("node associated although Glance was down: %s", inst)
	}
}
