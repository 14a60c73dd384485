package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mogan-manage/mogan-manage/testenv/cloud"
)

// The chaos test's end state, read from Ironic's and Neutron's own APIs
// and from the host's API: each node exactly adopted or exactly free; and
// its audit trail, read from PostgreSQL (read-only) and the API.

// ironicNodeView is what adoption and unmanage change on an Ironic node.
type ironicNodeView struct {
	UUID            string  `json:"uuid"`
	InstanceUUID    *string `json:"instance_uuid"`
	Protected       bool    `json:"protected"`
	ProtectedReason *string `json:"protected_reason"`
	AutomatedClean  *bool   `json:"automated_clean"`
	Extra           struct {
		Interlock *interlockRecord `json:"mogan_interlock"`
	} `json:"extra"`
}

// interlockRecord is a node's protection and automated cleaning, as the
// Ironic driver keeps them in extra.mogan_interlock while it is adopted.
type interlockRecord struct {
	Protected       bool    `json:"protected"`
	ProtectedReason *string `json:"protected_reason"`
	AutomatedClean  *bool   `json:"automated_clean"`
}

func (r interlockRecord) String() string {
	clean := "null"
	if r.AutomatedClean != nil {
		clean = fmt.Sprint(*r.AutomatedClean)
	}
	reason := "null"
	if r.ProtectedReason != nil {
		reason = fmt.Sprintf("%q", *r.ProtectedReason)
	}
	return fmt.Sprintf("protected=%v reason=%s automated_clean=%s", r.Protected, reason, clean)
}

// prior is the node's own values of what the interlock changes.
func (v ironicNodeView) prior() interlockRecord {
	return interlockRecord{Protected: v.Protected, ProtectedReason: v.ProtectedReason, AutomatedClean: v.AutomatedClean}
}

func (v ironicNodeView) String() string {
	rec := "none"
	if v.Extra.Interlock != nil {
		rec = "{" + v.Extra.Interlock.String() + "}"
	}
	return fmt.Sprintf("instance_uuid=%s %s extra.mogan_interlock=%s", orDash(deref(v.InstanceUUID)), v.prior(), rec)
}

// ironicViews reads every node of the Ironic at ironicURL (directly, not
// through a proxy), by uuid.
func ironicViews(t *testing.T, ironicURL string) map[string]ironicNodeView {
	t.Helper()
	var list struct {
		Nodes []ironicNodeView `json:"nodes"`
		Next  string           `json:"next"`
	}
	ironicGet(t, ironicURL, "/v1/nodes?limit=1000&fields=uuid,instance_uuid,protected,protected_reason,automated_clean,extra", &list)
	if list.Next != "" {
		t.Fatalf("more than 1000 nodes in %s", ironicURL)
	}
	out := map[string]ironicNodeView{}
	for _, n := range list.Nodes {
		out[n.UUID] = n
	}
	return out
}

// interlockWrong says what is wrong with a node's interlock fields, ""
// when nothing: adopted, it is protected with automated cleaning off and
// extra.mogan_interlock keeps prior; free, prior is back and no record is
// left.
func interlockWrong(v ironicNodeView, prior interlockRecord, adopted bool) string {
	switch {
	case adopted:
		if v.Extra.Interlock == nil || v.Extra.Interlock.String() != prior.String() ||
			!v.Protected || v.AutomatedClean == nil || *v.AutomatedClean {
			return fmt.Sprintf("adopted: %s; want protected, automated_clean=false and the record {%s}", v, prior)
		}
	case v.Extra.Interlock != nil || v.prior().String() != prior.String():
		return fmt.Sprintf("free: %s; want %s as at setup and no record", v, prior)
	}
	return ""
}

// neutronBindings reads every port's binding, as bindings writes it
// ("host/vnic"), in one request.
func neutronBindings(t *testing.T, c *cloud.Cloud) map[string]string {
	t.Helper()
	var list struct {
		Ports []struct {
			ID       string `json:"id"`
			HostID   string `json:"binding:host_id"`
			VNICType string `json:"binding:vnic_type"`
		} `json:"ports"`
	}
	if err := c.Neutron.Request(t.Context(), http.MethodGet, "/ports?fields=id&fields=binding:host_id&fields=binding:vnic_type", nil, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range list.Ports {
		out[p.ID] = p.HostID + "/" + p.VNICType
	}
	return out
}

// serverView is a server as GET /v1/servers/detail shows it.
type serverView struct {
	UUID     string `json:"uuid"`
	NodeUUID string `json:"node_uuid"`
	Status   string `json:"status"`
	Backend  string `json:"backend"`
}

// serversOf reads every server through the API, by node.
func serversOf(t *testing.T, hostURL string) map[string][]serverView {
	t.Helper()
	code, body := status(t, hostURL+"/v1/servers/detail")
	if code != http.StatusOK {
		t.Fatalf("servers: %d %s", code, body)
	}
	var list struct {
		Servers []serverView `json:"servers"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string][]serverView{}
	for _, s := range list.Servers {
		out[s.NodeUUID] = append(out[s.NodeUUID], s)
	}
	return out
}

// Node states.
const (
	stateAdopted  = "adopted"
	stateFree     = "free"
	stateStranded = "stranded"
)

// nodeVerdict is what one node is at the end, and what is wrong with it.
type nodeVerdict struct {
	state     string
	server    string // the adopted node's server
	problems  []string
	wrongPort []string
	interlock string
	ironic    ironicNodeView
	servers   []serverView
	bindings  map[string]string
}

// verdict is the whole state.
type verdict struct {
	adopted, setupAdopted, free   int
	stranded                      []string // node uuids
	wrongBindings, wrongInterlock int
	nodes                         map[string]*nodeVerdict
	servers                       map[string][]serverView
	wrongNodes                    []string // every node with anything wrong, in env.nodes order
}

func (v verdict) clean() bool {
	return len(v.stranded) == 0 && v.wrongBindings == 0 && v.wrongInterlock == 0
}

// summary is "" when clean, else the counts and the first problems.
func (v verdict) summary() string {
	if v.clean() {
		return ""
	}
	var first []string
	for _, id := range v.wrongNodes[:min(3, len(v.wrongNodes))] {
		nv := v.nodes[id]
		first = append(first, fmt.Sprintf("node %s: %s", id, strings.Join(slices.Concat(nv.problems, nv.wrongPort, nonEmpty(nv.interlock)), "; ")))
	}
	return fmt.Sprintf("%d stranded, %d wrong bindings, %d wrong interlocks; %s", len(v.stranded), v.wrongBindings, v.wrongInterlock, strings.Join(first, " | "))
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// judge reads the state of every node and judges it.
func (env *chaosEnv) judge(t *testing.T) verdict {
	t.Helper()
	v := verdict{nodes: map[string]*nodeVerdict{}, servers: serversOf(t, env.replicas[0].url)}
	views := map[string]map[string]ironicNodeView{}
	for name, srv := range env.ironics {
		views[name] = ironicViews(t, srv.URL)
	}
	ports := neutronBindings(t, env.c)
	for _, n := range env.nodes {
		view, found := views[n.backend][n.UUID]
		nv := judgeNode(n, v.servers[n.UUID], view, ports)
		if !found {
			nv.state, nv.problems = stateStranded, append(nv.problems, "gone from its Ironic")
		}
		v.nodes[n.UUID] = nv
		switch nv.state {
		case stateAdopted:
			v.adopted++
			if n.setup {
				v.setupAdopted++
			}
		case stateFree:
			v.free++
		default:
			v.stranded = append(v.stranded, n.UUID)
		}
		v.wrongBindings += len(nv.wrongPort)
		if nv.interlock != "" {
			v.wrongInterlock++
		}
		if nv.state == stateStranded || len(nv.wrongPort) > 0 || nv.interlock != "" {
			v.wrongNodes = append(v.wrongNodes, n.UUID)
		}
	}
	return v
}

// judgeNode says what node n is: adopted (one active server on its
// backend that Ironic's instance_uuid names), free (no server, no
// instance_uuid), or stranded; its ports bound to it (adopted) or as at
// setup (free, and any port not a VIF always); its interlock fields.
func judgeNode(n *chaosNode, servers []serverView, view ironicNodeView, ports map[string]string) *nodeVerdict {
	nv := &nodeVerdict{ironic: view, servers: servers, bindings: map[string]string{}}
	inst := deref(view.InstanceUUID)
	switch {
	case len(servers) > 1:
		nv.state = stateStranded
		nv.problems = append(nv.problems, fmt.Sprintf("%d servers: %+v", len(servers), servers))
	case len(servers) == 1:
		s := servers[0]
		switch {
		case s.Status != "active" || s.Backend != n.backend || inst != s.UUID:
			nv.state = stateStranded
			nv.problems = append(nv.problems, fmt.Sprintf("server %s is %s on backend %q; Ironic (%s) says instance_uuid %s",
				s.UUID, s.Status, s.Backend, n.backend, orDash(inst)))
		case n.setup && s.UUID != n.server:
			nv.state = stateStranded
			nv.problems = append(nv.problems, fmt.Sprintf("adopted by server %s, not its setup server %s (nothing adopted it again)", s.UUID, n.server))
		default:
			nv.state, nv.server = stateAdopted, s.UUID
		}
	case inst != "":
		nv.state = stateStranded
		nv.problems = append(nv.problems, fmt.Sprintf("no server, but Ironic's instance_uuid is %s", inst))
	default:
		nv.state = stateFree
	}
	bound := len(servers) > 0
	for _, p := range n.ports {
		want := n.before[p]
		if bound && slices.Contains(n.vifs, p) {
			want = n.UUID + "/baremetal"
		}
		got, ok := ports[p]
		if !ok {
			got = "(gone)"
		}
		nv.bindings[p] = got
		if got != want {
			nv.wrongPort = append(nv.wrongPort, fmt.Sprintf("port %s is %s, want %s", p, got, want))
		}
	}
	if nv.state != stateStranded {
		nv.interlock = interlockWrong(view, n.prior, nv.state == stateAdopted)
	}
	return nv
}

// openPostgresRO opens the replicas' database read-only.
func openPostgresRO(t *testing.T, conn string) *sql.DB {
	t.Helper()
	u, err := url.Parse(conn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("default_transaction_read_only", "on")
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func countIntents(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM intents`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// queryRows runs a read and formats each row as "col=value …".
func queryRows(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), query, args...)
	if err != nil {
		return []string{"(" + err.Error() + ")"}
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return append(out, "("+err.Error()+")")
		}
		var f []string
		for i, c := range cols {
			v := "NULL"
			if vals[i].Valid {
				v = clipped(vals[i].String, 300)
			}
			f = append(f, c+"="+v)
		}
		out = append(out, strings.Join(f, " "))
	}
	return out
}

func dumpIntents(t *testing.T, db *sql.DB) string {
	t.Helper()
	return strings.Join(queryRows(t, db, `SELECT server_uuid, node_uuid, backend, action, state, owner, owner_epoch, fence,
		lease_expires_at, last_error, steps FROM intents ORDER BY created_at`), "\n")
}
