package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// TestMigrateRefusals: each way a machine cannot be migrated, asked by
// dry run and by the real call (POST /v1/migrations, with a server), on
// real Ironic, Glance and Neutron. What can be checked before anything is
// created — a MAC or a name Ironic already has (the driver's
// CheckEnroll), an address another MAC holds in Neutron, a missing
// secret, an unknown image — is refused by both with the same error;
// what only Ironic's manage finds (a BMC that does not answer, a power
// state it does not read) is accepted by both, then fails in the enroll
// step and rolls back. Either way nothing is left: no node with a
// migration's marker, no Neutron port of ours; the node and the Neutron
// port that were in the way are as they were; and Ironic's log shows the
// rolled-back nodes went nowhere but enroll, verifying and manageable.
func TestMigrateRefusals(t *testing.T) {
	c, image := migStartCloud(t)
	before := migMarks(t, c)
	h := migStartHost(t, migHostConfig(t, c, "", c.Ironic.URL, c.Neutron.URL, ""))
	ctx := t.Context()
	// What is in the way: a node of Ironic's with a port (its VIF in no
	// Neutron), and a Neutron port holding an address with another MAC.
	existing, err := c.Ironic.Fixture().Enroll(ctx, ironic.Mix{Adoptable: 1})
	if err != nil {
		t.Fatal(err)
	}
	inWay := existing[0]
	holderIP, holderMAC := "10.20.81.200", "52:54:81:ff:00:01"
	var holder struct {
		Port neutronPortWithID `json:"port"`
	}
	if err := c.Neutron.Request(ctx, http.MethodPost, "/ports", map[string]any{"port": map[string]any{
		"network_id": c.NetworkID, "mac_address": holderMAC, "fixed_ips": []map[string]string{{"ip_address": holderIP}},
	}}, &holder); err != nil {
		t.Fatal(err)
	}

	base := migMachines("refused", 0x50, 8, 1, image)
	type refusal struct {
		m migMachine
		// drop takes the secret out of the body.
		drop bool
		// code is the status of the refused call, both dry run and real;
		// 0 when the call is accepted and the migration rolls back.
		code int
		// names are what the refusal, or the migration's error, names.
		names []string
	}
	cases := map[string]refusal{
		"a MAC already in Ironic": func() refusal {
			m := base[0]
			m.MACs = []string{inWay.Ports[0].Address}
			return refusal{m: m, code: http.StatusConflict, names: []string{inWay.Ports[0].Address}}
		}(),
		"a name already used": func() refusal {
			m := base[1]
			m.Name = inWay.Name
			return refusal{m: m, code: http.StatusConflict, names: []string{inWay.Name}}
		}(),
		"an IP held by a port with another MAC": func() refusal {
			m := base[2]
			m.IPs = []string{holderIP}
			return refusal{m: m, code: http.StatusConflict, names: []string{holderIP, holder.Port.ID, holderMAC}}
		}(),
		"a missing secret": {m: base[3], drop: true, code: http.StatusBadRequest, names: []string{base[3].Name, "ipmi_password"}},
		"an unknown image": func() refusal {
			m := base[4]
			m.Image = uuid.NewString()
			return refusal{m: m, code: http.StatusBadRequest, names: []string{m.Image}}
		}(),
		"a BMC that fails manage": {m: redfishAt(base[5], freePort(t)), names: []string{"could not manage", "Redfish connection failed"}},
		"a power_state fake-hardware does not read": func() refusal {
			m := base[6]
			m.PowerState = "power on"
			return refusal{m: m, names: []string{"power on", "the BMC may be another machine's"}}
		}(),
	}
	var refusedNodes []string
	for name, rc := range cases {
		t.Run(name, func(t *testing.T) {
			body := migBody(t, rc.m, "provisioning", true)
			if rc.drop {
				body = strings.Replace(body, `"secrets":{"ipmi_password":"`+migSecret+`"},`, "", 1)
				if strings.Contains(body, migSecret) {
					t.Fatalf("the secret is still in %s", body)
				}
			}
			dryCode, dryBody := post(t, h.URL+"/v1/migrations?dry_run=true", body)
			code, realBody := post(t, h.URL+"/v1/migrations", body)
			switch {
			case rc.code != 0:
				if dryCode != rc.code || code != rc.code || bodyFaultString(t, dryBody) != bodyFaultString(t, realBody) {
					t.Errorf("dry run %d %s; real call %d %s; want both %d with the same error", dryCode, dryBody, code, realBody, rc.code)
				}
				for _, want := range rc.names {
					if !strings.Contains(realBody, want) {
						t.Errorf("the refusal does not name %s: %s", want, realBody)
					}
				}
			default:
				// Only Ironic's manage can tell: the dry run passes.
				if dryCode != http.StatusOK {
					t.Errorf("dry run: %d %s; want 200 (only manage finds it)", dryCode, dryBody)
				}
				if code != http.StatusAccepted {
					t.Fatalf("real call: %d %s; want 202 (Ironic's manage finds it in the enroll step)", code, realBody)
				}
				var accepted migView
				if err := json.Unmarshal([]byte(realBody), &accepted); err != nil {
					t.Fatal(err)
				}
				var m migView
				if wrong := settle(2*time.Minute, func() string {
					m = migGet(t, h.URL, accepted.UUID)
					if !migFinal(m.Status) {
						return m.String() + " is not final"
					}
					return ""
				}); wrong != "" {
					t.Fatalf("%s\nhost log:\n%s", wrong, migLogLines(h.logs.String(), 30, accepted.UUID))
				}
				if m.Status != "rolled_back" || !containsAll(deref(m.Error), rc.names) || m.ServerUUID != nil {
					t.Errorf("%s; want rolled back, its error naming %v", m, rc.names)
				}
				t.Logf("real call: 202, then %s", m)
				refusedNodes = append(refusedNodes, m.NodeUUID)
			}
		})
	}

	if left := migLeftovers(t, c, before, nil); left != "" {
		t.Errorf("the refusals left:\n%s", left)
	}
	if ms := migList(t, h.URL); slices.ContainsFunc(ms, func(m migView) bool { return m.Status == "done" }) {
		t.Errorf("a refused machine was migrated: %v", ms)
	}
	if n := len(migServers(t, h.URL)); n != 0 {
		t.Errorf("%d servers after the refusals", n)
	}
	// What was in the way is as it was.
	nodes := migIronicNodes(t, c.Ironic.URL)
	if n, ok := nodes[inWay.UUID]; !ok || deref(n.Name) != inWay.Name || n.marker() != "" || n.Protected || n.ProvisionState != "active" {
		t.Errorf("the node in the way: %+v; want it as it was (%s, active, unprotected)", n, inWay.Name)
	}
	if ports := migIronicPorts(t, c.Ironic.URL)[inWay.UUID]; len(ports) != len(inWay.Ports) {
		t.Errorf("the node in the way has %d ports; it had %d", len(ports), len(inWay.Ports))
	}
	if p, err := c.Neutron.GetPort(ctx, holder.Port.ID); err != nil || p.MAC != holderMAC {
		t.Errorf("the Neutron port holding %s: %+v, %v; want it as it was", holderIP, p, err)
	}
	states := migCheckUntouched(t, c.Ironic, refusedNodes)
	t.Logf("provision states of the refused machines' nodes (Ironic's log): %v", states)
}

// neutronPortWithID is a Neutron port's id.
type neutronPortWithID struct {
	ID string `json:"id"`
}

// containsAll reports whether s holds every one of subs.
func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
