package manage

import (
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/testenv/postgrestest"
)

// lastReleaseSchema is the schema version of the release before the step
// table (intents without owner_epoch or fence, steps without a status).
const lastReleaseSchema = 3

// TestRepairsTheIntentLogOfTheLastRelease: a database the last release
// left behind, holding one interrupted adoption at each step (and a
// release), written row for row as that release wrote them, is upgraded by
// db sync and every intent is completed, rolled back or finished as that
// release's repair pass would have done it.
func TestRepairsTheIntentLogOfTheLastRelease(t *testing.T) {
	engines := map[string]func(t *testing.T) string{
		"sqlite":     func(t *testing.T) string { return "sqlite://" + t.TempDir() + "/mogan.sqlite" },
		"postgresql": func(t *testing.T) string { return postgrestest.NewDatabase(t, "mogan_manage_test") },
	}
	// One node per case; each has a port (p1) bound by the dead process
	// when its bind acted, and an association when its Manage acted.
	type intent struct {
		steps      string // the steps column as the last release wrote it
		bound      bool
		associated bool
		action     string
		status     string // the server row's
		want       string
	}
	bind := `{"name":"bind","data":{"port_id":"PORT","network_id":"net","mac_address":"MAC","node_port_uuid":"np","prev_host_id":"old-host","prev_vnic_type":"normal"}}`
	manage := `{"name":"manage","data":{"image_uuid":"` + imageA + `","node_name":"old-name"}}`
	cases := map[string]intent{
		"after the claim":            {steps: `[]`, want: RepairRolledBack},
		"bind begun, not acted":      {steps: `[` + bind + `]`, want: RepairRolledBack},
		"bind acted":                 {steps: `[` + bind + `]`, bound: true, want: RepairRolledBack},
		"manage begun, not acted":    {steps: `[` + bind + `,` + manage + `]`, bound: true, want: RepairRolledBack},
		"manage acted, not recorded": {steps: `[` + bind + `,` + manage + `]`, bound: true, associated: true, want: RepairCompleted},
		"a release":                  {steps: `[]`, action: store.ActionUnmanage, status: store.StatusActive, bound: true, associated: true, want: RepairReleased},
	}
	for engine, newDB := range engines {
		t.Run(engine, func(t *testing.T) {
			ctx := t.Context()
			conn := newDB(t)
			if err := store.MigrateTo(ctx, conn, lastReleaseSchema, hclog.NewNullLogger()); err != nil {
				t.Fatal(err)
			}
			db := openRaw(t, conn)
			var nodes []driver.Node
			var ports []neutron.Port
			servers := map[string]string{} // case → server uuid
			i := 0
			for name, tc := range cases {
				i++
				node := fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)
				srv := fmt.Sprintf("%08d-1111-4111-8111-111111111111", i)
				port := fmt.Sprintf("%08d-2222-4222-8222-222222222222", i)
				mac := fmt.Sprintf("52:54:00:00:00:%02x", i)
				servers[name] = srv
				n := driver.Node{UUID: node, Name: "node-" + node[:8], PowerState: "power on", ProvisionState: "active", Manageable: true,
					Ports: []driver.Port{{UUID: "np-" + node, Address: mac, NeutronPortID: port}}}
				nodes = append(nodes, n)
				p := neutron.Port{ID: port, NetworkID: "net", MACAddress: mac, HostID: "old-host", VNICType: "normal"}
				if tc.bound {
					p.HostID, p.VNICType = node, vnicBaremetal
				}
				ports = append(ports, p)
				status, action, bindings := store.StatusBuilding, store.ActionManage, "NULL"
				if tc.action != "" {
					status, action = tc.status, tc.action
					bindings = `'[{"port_id":"` + port + `","network_id":"net","prev_host_id":"old-host","prev_vnic_type":"normal"}]'`
				}
				rawExec(t, db, conn, `INSERT INTO servers (uuid, name, node_uuid, status, power_state, project_id, user_id,
					metadata, system_metadata, addresses, created_at, bindings)
					VALUES (?, 'old', ?, ?, 'power on', 'p', 'u', '{}', '{"managed_server":"True"}', '{}', ?, `+bindings+`)`,
					srv, node, status, timeArg(conn, time.Now()))
				rawExec(t, db, conn, `INSERT INTO intents (server_uuid, node_uuid, action, state, steps, request_id, user_id,
					project_id, owner, lease_expires_at, last_error, created_at, updated_at)
					VALUES (?, ?, ?, 'running', ?, 'req-old', 'u', 'p', ?, ?, NULL, ?, ?)`,
					srv, node, action, strings.NewReplacer("PORT", port, "MAC", mac).Replace(tc.steps), ownerID, timeArg(conn, time.Now().Add(time.Hour)),
					timeArg(conn, time.Now()), timeArg(conn, time.Now()))
			}
			if err := store.Migrate(ctx, conn, hclog.NewNullLogger()); err != nil {
				t.Fatalf("db sync: %v", err)
			}
			st, err := store.Open(ctx, conn, hclog.NewNullLogger())
			if err != nil {
				t.Fatal(err)
			}
			// db sync fills the backend of the rows written before with
			// the one backend the configuration implies.
			if _, err := st.FillBackend(ctx, testBackend); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			e := newEnv(t, func(c *Config) { c.Store = st })
			e.backend = newBackend(nodes...)
			e.neutron = newNeutron(ports...)
			e.setDriver(e.backend.driver())
			e.svc.networks = e.neutron
			for name, tc := range cases {
				if tc.associated {
					node := nodes[indexOf(t, servers, name, nodes)].UUID
					e.backend.set(func() { e.backend.nodes[node].instance = servers[name] })
				}
			}

			rep, err := e.svc.Recover(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, ir := range rep.Intents {
				for name, srv := range servers {
					if srv == ir.ServerUUID {
						got[name] = ir.Outcome
					}
				}
			}
			for name, tc := range cases {
				if got[name] != tc.want {
					t.Errorf("%s: repaired as %q, want %q", name, got[name], tc.want)
				}
				n := nodes[indexOf(t, servers, name, nodes)]
				port := n.Ports[0].NeutronPortID
				srv, err := e.store.GetServer(ctx, servers[name])
				switch tc.want {
				case RepairCompleted:
					if err != nil || srv.Status != StatusActive || srv.ImageUUID != imageA || srv.NodeName != "old-name" {
						t.Errorf("%s: server = %+v, %v", name, srv, err)
					}
					if b := e.neutron.binding(port); b != n.UUID+"/baremetal" {
						t.Errorf("%s: port binding = %s", name, b)
					}
				default:
					if err == nil {
						t.Errorf("%s: server still there: %+v", name, srv)
					}
					if b := e.neutron.binding(port); b != "old-host/normal" {
						t.Errorf("%s: port binding = %s, want old-host/normal", name, b)
					}
					if inst := e.backend.instanceOf(n.UUID); inst != "" {
						t.Errorf("%s: node still associated with %s", name, inst)
					}
				}
			}
		})
	}
}

// indexOf finds the node of a case: the cases' servers and nodes share
// their number.
func indexOf(t *testing.T, servers map[string]string, name string, nodes []driver.Node) int {
	t.Helper()
	for i, n := range nodes {
		if n.UUID[:8] == servers[name][:8] {
			return i
		}
	}
	t.Fatalf("no node for %s", name)
	return -1
}

func openRaw(t *testing.T, conn string) *sql.DB {
	t.Helper()
	driverName, dsn := "pgx", conn
	if path, ok := strings.CutPrefix(conn, "sqlite://"); ok {
		driverName, dsn = "sqlite", path
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// rawExec runs a statement written with '?' placeholders on either engine.
func rawExec(t *testing.T, db *sql.DB, conn, q string, args ...any) {
	t.Helper()
	if !strings.HasPrefix(conn, "sqlite://") {
		n := 0
		q = placeholderRE.ReplaceAllStringFunc(q, func(string) string { n++; return fmt.Sprintf("$%d", n) })
	}
	if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// timeArg is a time as the last release stored it.
func timeArg(conn string, tm time.Time) any {
	if strings.HasPrefix(conn, "sqlite://") {
		return tm.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	return tm.UTC()
}

var placeholderRE = regexp.MustCompile(`\?`)
