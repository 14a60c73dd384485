package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/mogan-manage/mogan-manage/testenv/holdproxy"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// TestKillMatrix is the SIGKILL matrix of an adoption against real
// Ironic, Glance and Neutron: the host is killed while each step is in
// flight, before and after its service acted, restarted, and the node
// checked adopted or untouched, with every Neutron port bound to it or back
// as it was, by the time the restarted host answers.
func TestKillMatrix(t *testing.T) {
	type point struct {
		service     string // "ironic" or "neutron": whose request is held
		method      string
		path        string
		phase       holdproxy.Phase
		wantAdopted bool
	}
	points := map[string]point{
		"plan: reading the node, before Ironic answered": {"ironic", http.MethodGet, `^/v1/nodes/[^/]+$`, holdproxy.BeforeForward, false},
		"plan: reading the node, after Ironic answered":  {"ironic", http.MethodGet, `^/v1/nodes/[^/]+$`, holdproxy.AfterForward, false},
		"plan: looking the ports up in Neutron":          {"neutron", http.MethodGet, `/ports`, holdproxy.AfterForward, false},
		"bind: before Neutron acted":                     {"neutron", http.MethodPut, `/ports/`, holdproxy.BeforeForward, false},
		"bind: after Neutron acted":                      {"neutron", http.MethodPut, `/ports/`, holdproxy.AfterForward, false},
		"manage: before Ironic acted":                    {"ironic", http.MethodPatch, `^/v1/nodes/`, holdproxy.BeforeForward, false},
		"manage: after Ironic acted":                     {"ironic", http.MethodPatch, `^/v1/nodes/`, holdproxy.AfterForward, true},
	}
	c, nodes := startCloud(t, len(points))
	i := 0
	for name, p := range points {
		node := nodes[i]
		i++
		t.Run(name, func(t *testing.T) {
			target := c.Ironic.URL
			if p.service == "neutron" {
				target = c.Neutron.URL
			}
			proxy, err := holdproxy.Start(target)
			if err != nil {
				t.Fatal(err)
			}
			ironicURL, neutronURL := c.Ironic.URL, c.Neutron.URL
			if p.service == "neutron" {
				neutronURL = proxy.URL
			} else {
				ironicURL = proxy.URL
			}
			before := bindings(t, c, vifsOf(node))
			dbPath := filepath.Join(t.TempDir(), "mogan.sqlite")
			db := "sqlite://" + dbPath
			conf := func(ironicAt, neutronAt string) string {
				return hostConfig(t, db, fmt.Sprintf(
					"[driver]\nname = ironic\ncall_timeout = 60\n[ironic]\nurl = %s\nauth_type = none\n"+
						"[glance]\nurl = %s\nauth_type = none\n[neutron]\nurl = %s\nauth_type = none\n",
					ironicAt, c.Glance.URL, neutronAt))
			}
			h := startHost(t, conf(ironicURL, neutronURL))
			rule := proxy.Hold(p.method, p.path, p.phase)
			killMidStep(t, h, proxy, rule, node.UUID)
			unfinished := intentServers(t, dbPath)
			if len(unfinished) != 1 {
				t.Fatalf("intents left by the killed host: %v; want one", unfinished)
			}

			h2 := startHost(t, conf(c.Ironic.URL, c.Neutron.URL))
			bad, adopted := broken(t, h2.URL, c.Ironic.URL, []ironic.Node{node})
			if len(bad) > 0 || (adopted == 1) != p.wantAdopted {
				t.Fatalf("after the restart: adopted %d (want %v), broken %v\n%s", adopted, p.wantAdopted, bad, h2.logs)
			}
			want := before
			if p.wantAdopted {
				want = map[string]string{}
				for port := range before {
					want[port] = node.UUID + "/baremetal"
				}
			}
			if got := bindings(t, c, vifsOf(node)); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("bindings after the repair = %v, want %v", got, want)
			}
			checkRepairAction(t, h2.URL, unfinished[0], p.wantAdopted)
		})
	}
}
