package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/mogan-manage/mogan-manage/testenv/keystone"
)

// TestCLIAgainstCloud drives bin/mogan against the host on a real Ironic,
// Glance and Neutron: the listing, a dry run that changes nothing, each
// outcome word with its reason (maintenance, a MAC mismatch), the exit
// codes, the server commands.
func TestCLIAgainstCloud(t *testing.T) {
	ctx := t.Context()
	c, nodes := startCloud(t, 5)
	pre, a1, a2, badMAC, maintenance := nodes[0].UUID, nodes[1].UUID, nodes[2].UUID, nodes[3].UUID, nodes[4].UUID
	if err := c.SetNeutronMAC(ctx, vifsOf(nodes[3])[0], "52:54:00:12:34:56"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetMaintenance(ctx, maintenance, true); err != nil {
		t.Fatal(err)
	}
	ironicSrv := c.Ironic
	h := startHost(t, cloudHostConfig(t, c, "", c.Neutron.URL, ""))
	env := []string{"MOGAN_URL=" + h.URL}

	// One node is adopted beforehand: the CLI must call it skipped.
	code, body := post(t, h.URL+"/v1/manageable_servers", `{"name": "pre", "node_uuid": "`+pre+`"}`)
	if code != http.StatusCreated {
		t.Fatalf("adopt %s: %d %s", pre, code, body)
	}
	preServer := serversByNode(t, h.URL)[pre].UUID

	// The listing: -f json is the API's node objects.
	r := runMogan(t, env, "manageable", "list", "-f", "json")
	var listed []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &listed); r.code != 0 || err != nil {
		t.Fatalf("manageable list: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	got := map[string]bool{}
	resourceClass := map[string]any{}
	for _, n := range listed {
		got[n["uuid"].(string)] = true
		resourceClass[n["uuid"].(string)] = n["resource_class"]
	}
	if len(got) != 3 || !got[a1] || !got[a2] || !got[badMAC] {
		t.Errorf("manageable list -f json lists %v; want %s, %s and %s", got, a1, a2, badMAC)
	}
	if r := runMogan(t, env, "manageable", "list", "--all"); r.code != 0 || !strings.Contains(r.stdout, maintenance) || !strings.Contains(r.stdout, "maintenance") {
		t.Errorf("manageable list --all: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A dry run: each outcome as the real run would have it, nothing changed.
	r = runMogan(t, env, "adopt", "--dry-run", "-f", "json", a1, maintenance, badMAC, pre)
	if r.code != 1 {
		t.Errorf("adopt --dry-run with a node in maintenance: exit %d; want 1\n%s", r.code, r.stderr)
	}
	res := adoptResults(t, r)
	checkOutcome(t, res[a1], "would adopt", "", "")
	checkOutcome(t, res[maintenance], "failed", "", "maintenance")
	checkOutcome(t, res[badMAC], "failed", "", "52:54:00:12:34:56")
	checkOutcome(t, res[pre], "skipped", preServer, preServer)
	if n := len(serversByNode(t, h.URL)); n != 1 {
		t.Errorf("%d servers after the dry run; want the 1 adopted before", n)
	}
	if inst := ironicNode(t, ironicSrv.URL, a1)["instance_uuid"]; inst != nil {
		t.Errorf("the dry run associated %s with %v", a1, inst)
	}
	if r := runMogan(t, env, "adopt", "--dry-run", a1, a2); r.code != 0 || strings.Count(r.stdout, "would adopt") != 2 {
		t.Errorf("adopt --dry-run of adoptable nodes: exit %d; want 0 and two \"would adopt\"\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The real run: adopted, failed with the API's reason, skipped.
	r = runMogan(t, env, "adopt", "-f", "json", "--name-template", "srv-{{.resource_class}}-{{.uuid}}",
		"--property", "rack=7", "--description", "from the lab", a1, maintenance, badMAC, pre)
	if r.code != 1 {
		t.Errorf("adopt with a node in maintenance: exit %d; want 1\n%s", r.code, r.stderr)
	}
	res = adoptResults(t, r)
	a1Server := deref(res[a1].ServerUUID)
	checkOutcome(t, res[a1], "adopted", a1Server, "")
	checkOutcome(t, res[maintenance], "failed", "", "maintenance")
	checkOutcome(t, res[badMAC], "failed", "", "52:54:00:12:34:56")
	checkOutcome(t, res[pre], "skipped", preServer, preServer)
	if inst, _ := c.InstanceUUID(ctx, badMAC); inst != "" {
		t.Errorf("the node with a MAC mismatch was associated with %s", inst)
	}
	if a1Server == "" || ironicNode(t, ironicSrv.URL, a1)["instance_uuid"] != a1Server {
		t.Errorf("Ironic's instance_uuid of %s = %v; want the server %q", a1, ironicNode(t, ironicSrv.URL, a1)["instance_uuid"], a1Server)
	}
	r = runMogan(t, env, "server", "show", "-f", "json", a1Server)
	var shown map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &shown); r.code != 0 || err != nil {
		t.Fatalf("server show: exit %d, %v\n%s", r.code, err, r.stderr)
	}
	if shown["name"] != fmt.Sprintf("srv-%v-%s", resourceClass[a1], a1) ||
		shown["description"] != "from the lab" || fmt.Sprint(shown["metadata"]) != "map[rack:7]" {
		t.Errorf("server show: name %v, description %v, metadata %v", shown["name"], shown["description"], shown["metadata"])
	}

	// --all adopts what is left and fails the MAC mismatch again (listed:
	// Ironic alone cannot tell); then only that one is left.
	r = runMogan(t, env, "adopt", "--all")
	if r.code != 1 || !strings.Contains(r.stdout, a2) || strings.Count(r.stdout, "| adopted") != 1 || strings.Count(r.stdout, "| failed") != 1 {
		t.Errorf("adopt --all: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runMogan(t, env, "adopt", "--all", "-f", "json")
	if res := adoptResults(t, r); r.code != 1 || len(res) != 1 || res[badMAC].Outcome != "failed" {
		t.Errorf("adopt --all with the MAC mismatch left: exit %d, %s", r.code, r.stdout)
	}

	// The server commands.
	if r := runMogan(t, env, "server", "list", "--all-tenants"); r.code != 0 || strings.Count(r.stdout, "| active") != 3 {
		t.Errorf("server list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runMogan(t, env, "server", "actions", "-f", "json", a1Server); r.code != 0 || !strings.Contains(r.stdout, `"manage"`) {
		t.Errorf("server actions: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runMogan(t, env, "unmanage", a1Server); r.code != 0 {
		t.Errorf("unmanage: exit %d\n%s", r.code, r.stderr)
	}
	if inst := ironicNode(t, ironicSrv.URL, a1)["instance_uuid"]; inst != nil {
		t.Errorf("Ironic's instance_uuid after unmanage = %v", inst)
	}
	// An error is the API's faultstring and request id, exit 1; a
	// usage error exit 2.
	r = runMogan(t, env, "server", "show", a1Server)
	if r.code != 1 || !strings.Contains(r.stderr, a1Server) || !strings.Contains(r.stderr, "HTTP 404, request req-") {
		t.Errorf("show a released server: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, args := range [][]string{{"adopt"}, {"adopt", "--all", a1}, {"adopt", "--concurrency", "0", a1}, {"server", "list", "-f", "xml"}} {
		if r := runMogan(t, env, args...); r.code != 2 {
			t.Errorf("mogan %v: exit %d; want 2 (%s)", args, r.code, r.stderr)
		}
	}
}

// checkOutcome compares one node's result; reason "" means none wanted,
// otherwise the reason must contain it.
func checkOutcome(t *testing.T, got cliNode, outcome, server, reason string) {
	t.Helper()
	if got.Outcome != outcome || deref(got.ServerUUID) != server ||
		(reason == "") != (got.Reason == nil) || !strings.Contains(deref(got.Reason), reason) {
		t.Errorf("node %s: %s, server %q, reason %q; want %s, server %q, reason containing %q",
			got.NodeUUID, got.Outcome, deref(got.ServerUUID), deref(got.Reason), outcome, server, reason)
	}
}

// TestCLIConnections: http_basic with OS_PASSWORD, and --os-cloud through
// a clouds.yaml against a real Keystone whose catalog has the API as
// baremetal_compute.
func TestCLIConnections(t *testing.T) {
	ctx := t.Context()
	t.Run("http_basic", func(t *testing.T) {
		hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		users := filepath.Join(t.TempDir(), "htpasswd")
		if err := os.WriteFile(users, []byte("ops:"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		conf := strings.Replace(hostConfig(t, "", "[driver]\nname = test\n"), "auth_strategy = noauth",
			"auth_strategy = http_basic\nhttp_basic_auth_user_file = "+users, 1)
		h := startHost(t, conf)
		for name, tc := range map[string]struct {
			env      []string
			args     []string
			wantCode int
			wantErr  string
		}{
			"OS_PASSWORD":              {[]string{"OS_PASSWORD=s3cret"}, nil, 0, ""},
			"wrong OS_PASSWORD":        {[]string{"OS_PASSWORD=nope"}, nil, 1, "HTTP 401, request req-"},
			"no password, no terminal": {nil, nil, 2, "OS_PASSWORD"},
			"MOGAN_URL":                {[]string{"OS_PASSWORD=s3cret", "MOGAN_URL=" + h.URL}, []string{"--url="}, 0, ""},
		} {
			t.Run(name, func(t *testing.T) {
				args := append([]string{"manageable", "list", "-f", "json", "--url", h.URL, "--username", "ops"}, tc.args...)
				r := runMogan(t, tc.env, args...)
				if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.wantErr) {
					t.Errorf("exit %d stderr %q; want %d with %q", r.code, r.stderr, tc.wantCode, tc.wantErr)
				}
			})
		}
	})

	t.Run("os-cloud", func(t *testing.T) {
		ks, err := keystone.Start(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ks.Stop)
		// The host's user reads projects to check --project (Keystone's
		// identity:get_project wants the admin role).
		svcUser, err := ks.AddUser(ctx, "mogan-cli", "service", "admin")
		if err != nil {
			t.Fatal(err)
		}
		conf := strings.Replace(hostConfig(t, "", fmt.Sprintf("[driver]\nname = test\n\n[keystone_authtoken]\nauth_url = %s\nusername = %s\npassword = %s\nproject_name = %s\n",
			ks.URL, svcUser.Name, svcUser.Password, svcUser.Project)), "auth_strategy = noauth", "auth_strategy = keystone", 1)
		h := startHost(t, conf)
		admin, err := ks.AdminToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var svc struct {
			Service struct {
				ID string `json:"id"`
			} `json:"service"`
		}
		if err := ks.Request(ctx, admin, http.MethodPost, "/services",
			map[string]any{"service": map[string]any{"type": "baremetal_compute", "name": "mogan", "enabled": true}}, &svc); err != nil {
			t.Fatal(err)
		}
		if err := ks.Request(ctx, admin, http.MethodPost, "/endpoints", map[string]any{"endpoint": map[string]any{
			"service_id": svc.Service.ID, "interface": "public", "url": h.URL, "region_id": "RegionOne",
		}}, nil); err != nil {
			t.Fatal(err)
		}
		clouds := filepath.Join(t.TempDir(), "clouds.yaml")
		entry := func(name, user, password, project string) string {
			return fmt.Sprintf("  %s:\n    auth:\n      auth_url: %s\n      username: %s\n      password: %s\n      project_name: %s\n"+
				"      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n", name, ks.URL, user, password, project)
		}
		body := "clouds:\n" + entry("admin", ks.Admin.Name, ks.Admin.Password, ks.Admin.Project) +
			entry("member", ks.Member.Name, ks.Member.Password, ks.Member.Project) +
			entry("wrong", ks.Admin.Name, "not-the-password", ks.Admin.Project)
		if err := os.WriteFile(clouds, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		env := []string{"OS_CLIENT_CONFIG_FILE=" + clouds}
		for name, tc := range map[string]struct {
			env      []string
			args     []string
			wantCode int
			wantOut  string
		}{
			"--os-cloud":        {nil, []string{"--os-cloud", "admin"}, 0, "["},
			"OS_CLOUD":          {[]string{"OS_CLOUD=admin"}, nil, 0, "["},
			"member is refused": {nil, []string{"--os-cloud", "member"}, 1, "HTTP 403, request req-"},
			"wrong password":    {nil, []string{"--os-cloud", "wrong"}, 1, "Keystone"},
			"unknown cloud":     {nil, []string{"--os-cloud", "nope"}, 1, "nope"},
		} {
			t.Run(name, func(t *testing.T) {
				r := runMogan(t, append(env, tc.env...), append([]string{"manageable", "list", "-f", "json"}, tc.args...)...)
				if r.code != tc.wantCode || !strings.Contains(r.stdout+r.stderr, tc.wantOut) {
					t.Errorf("exit %d\nstdout %q\nstderr %q\nwant %d with %q", r.code, r.stdout, r.stderr, tc.wantCode, tc.wantOut)
				}
			})
		}

		// The admin adopts into the member's project: the member sees the
		// server, the audit trail names the admin.
		const node = "00000000-0000-4000-8000-000000000000" // the test driver's first node
		r := runMogan(t, env, "--os-cloud", "admin", "adopt", "-f", "json", "--project", ks.Member.ProjectID, node)
		server := deref(adoptResults(t, r)[node].ServerUUID)
		if r.code != 0 || server == "" {
			t.Fatalf("adopt --project: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		r = runMogan(t, env, "--os-cloud", "member", "server", "list", "-f", "json")
		var mine []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &mine); r.code != 0 || err != nil || len(mine) != 1 || mine[0]["uuid"] != server {
			t.Errorf("the member's server list: exit %d, %v: %s%s", r.code, err, r.stdout, r.stderr)
		}
		r = runMogan(t, env, "--os-cloud", "admin", "server", "actions", "-f", "json", server)
		var actions []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &actions); r.code != 0 || err != nil || len(actions) != 1 ||
			actions[0]["action"] != "manage" || actions[0]["user_id"] != ks.Admin.ID || actions[0]["result"] != "success" {
			t.Errorf("server actions: exit %d, %v: %s%s", r.code, err, r.stdout, r.stderr)
		}
		if r := runMogan(t, env, "--os-cloud", "member", "unmanage", server); r.code != 1 || !strings.Contains(r.stderr, "HTTP 403") {
			t.Errorf("the member unmanages: exit %d, %s; want 1 and 403", r.code, r.stderr)
		}
	})
}
