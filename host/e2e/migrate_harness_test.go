package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/testenv/cloud"
	"github.com/mogan-manage/mogan-manage/testenv/ironic"
	"github.com/mogan-manage/mogan-manage/testenv/proctest"
)

// The harness of the migration tests (issue 17): a cloud whose Ironic
// cleans automatically (a stray provide would show as cleaning) and knows
// redfish (a BMC at a closed port fails manage at once), inventories of
// machines with MACs and fixed IPs of their own, and the checks every
// migration test makes — what Ironic's log says each node went through,
// the nodes carrying a migration's marker, the Neutron ports a migration
// made — read from the services themselves.

// migSecret is the distinctive password the inventories' secrets
// file gives every machine: it must reach Ironic's driver_info and
// nothing else.
const migSecret = "s3cr3t-Migr4tion-pw-7d41"

// migPortPrefix names the Neutron ports a migration creates
// ("mogan-migration-<migration uuid>").
const migPortPrefix = "mogan-migration-"

// migBackend is the backend name of a host whose [driver] name is
// ironic.
const migBackend = "ironic"

// The migration tests share one cloud, started by the first of them
// (each service ends with the test binary, and the next binary removes
// its directory): its start is half a minute to a minute of a loaded
// 2-core machine. Each test keeps to its own names,
// MACs and addresses, and judges what it left by what it added.
var (
	migCloudOnce sync.Once
	migCloudDir  string
	migCloudC    *cloud.Cloud
	migCloudErr  error
)

// migStartCloud returns the shared cloud — Ironic (automated cleaning on,
// redfish enabled), Glance and Neutron — and a new image in its Glance
// for the test's machines.
func migStartCloud(t *testing.T) (*cloud.Cloud, string) {
	t.Helper()
	migCloudOnce.Do(func() {
		// Its directory names this process; those of test binaries that
		// have exited (their services ended with them) are removed.
		stale, _ := filepath.Glob(filepath.Join(os.TempDir(), "mogan-e2e-migrate-*"))
		for _, dir := range stale {
			var pid int
			if _, err := fmt.Sscanf(filepath.Base(dir), "mogan-e2e-migrate-%d", &pid); err == nil && !proctest.Alive(pid) {
				_ = os.RemoveAll(dir)
			}
		}
		migCloudDir = filepath.Join(os.TempDir(), fmt.Sprintf("mogan-e2e-migrate-%d", os.Getpid()))
		if migCloudErr = os.Mkdir(migCloudDir, 0o700); migCloudErr != nil {
			return
		}
		// Not t.Context(): the cloud outlives this test.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		migCloudC, migCloudErr = cloud.Start(ctx, cloud.Options{Dir: migCloudDir, Glance: true, Neutron: true, DieWithParent: true,
			IronicAutomatedClean: true, IronicRedfish: true})
	})
	if migCloudErr != nil {
		t.Fatalf("starting the migration tests' cloud: %v", migCloudErr)
	}
	image := uuid.NewString()
	if err := migCloudC.Glance.CreateImage(t.Context(), image, "migrated-machines-of-"+t.Name()); err != nil {
		t.Fatal(err)
	}
	return migCloudC, image
}

// migHostConfig is a host on the Ironic driver at ironicURL with
// c's Glance and a Neutron at neutronURL (proxies or the services); extra
// is appended.
func migHostConfig(t *testing.T, c *cloud.Cloud, db, ironicURL, neutronURL, extra string) string {
	t.Helper()
	return ironicHostConfig(t, db, ironicURL, fmt.Sprintf("[glance]\nurl = %s\nauth_type = none\n[neutron]\nurl = %s\nauth_type = none\n",
		c.Glance.URL, neutronURL)+extra)
}

// migMachine is one machine of an inventory: a NIC per MAC, each with its
// fixed IP on the cloud's provisioning network.
type migMachine struct {
	Name  string
	MACs  []string
	IPs   []string
	Image string
	// PowerState, when set, is the machine description's power_state.
	PowerState string
	// NoNetwork: the NICs name no Neutron network (no Neutron port is
	// made, the server has no addresses).
	NoNetwork bool
	// Driver, DriverInfo and Secret (the one secret field) default to
	// fake-hardware, an IPMI-like address and ipmi_password.
	Driver     string
	DriverInfo map[string]string
	Secret     string
}

// driverInfo is the machine's driver_info without its secret.
func (m migMachine) driverInfo() map[string]string {
	if m.DriverInfo == nil {
		return map[string]string{"ipmi_address": "192.0.2.10", "ipmi_username": "admin"}
	}
	return m.DriverInfo
}

// redfishAt makes m a redfish machine whose BMC is at a closed local
// port: Ironic's manage fails at once and the node returns to enroll.
func redfishAt(m migMachine, port int) migMachine {
	m.Driver, m.Secret = "redfish", "redfish_password"
	m.DriverInfo = map[string]string{"redfish_address": fmt.Sprintf("http://127.0.0.1:%d", port), "redfish_username": "admin",
		"redfish_system_id": "/redfish/v1/Systems/1"}
	return m
}

// description is m as the API's source.machine.
func (m migMachine) description(network string) map[string]any {
	var ports []map[string]any
	for i, mac := range m.MACs {
		ports = append(ports, map[string]any{"mac": mac, "network": network, "fixed_ips": []string{m.IPs[i]}})
	}
	d := map[string]any{"name": m.Name, "driver": migOr(m.Driver, "fake-hardware"), "driver_info": m.driverInfo(),
		"secrets": []string{migOr(m.Secret, "ipmi_password")}, "resource_class": "baremetal", "ports": ports}
	if m.Image != "" {
		d["image"] = m.Image
	}
	if m.PowerState != "" {
		d["power_state"] = m.PowerState
	}
	return d
}

// migBody is a POST /v1/migrations body for m into the ironic backend,
// with the secret's value and, when adopt, a server of m's name.
func migBody(t *testing.T, m migMachine, network string, adopt bool) string {
	t.Helper()
	body := map[string]any{"source": map[string]any{"machine": m.description(network)}, "target": map[string]any{"backend": migBackend},
		"secrets": map[string]string{migOr(m.Secret, "ipmi_password"): migSecret}}
	if adopt {
		body["server"] = map[string]any{"name": m.Name}
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// migMachines makes n machines named prefix-NNN, with nics NICs each;
// block (0-255) keeps their MACs and IPs apart from another call's:
// MAC 52:54:<block>:<nic>:<i>, IP 10.20.<block>.<i> for the first NIC
// (10.20.<block+1>.<i> for a second one, and so on).
func migMachines(prefix string, block, n, nics int, image string) []migMachine {
	out := make([]migMachine, n)
	for i := range n {
		m := migMachine{Name: fmt.Sprintf("%s-%03d", prefix, i), Image: image}
		for nic := range nics {
			m.MACs = append(m.MACs, fmt.Sprintf("52:54:%02x:%02x:%02x:%02x", block, nic, i>>8, i&0xff))
			m.IPs = append(m.IPs, fmt.Sprintf("10.20.%d.%d", block+nic+i/250, 2+i%250))
		}
		out[i] = m
	}
	return out
}

// migYAML writes ms as a YAML inventory; network is each port's.
func migYAML(ms []migMachine, network string) string {
	var b strings.Builder
	b.WriteString("machines:\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "  - name: %s\n    driver: %s\n    driver_info: {", m.Name, migOr(m.Driver, "fake-hardware"))
		info := m.driverInfo()
		keys := make([]string, 0, len(info))
		for k := range info {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s: %q", k, info[k])
		}
		fmt.Fprintf(&b, "}\n    secrets: [%s]\n    resource_class: baremetal\n", migOr(m.Secret, "ipmi_password"))
		if m.Image != "" {
			fmt.Fprintf(&b, "    image: %s\n", m.Image)
		}
		if m.PowerState != "" {
			fmt.Fprintf(&b, "    power_state: %s\n", m.PowerState)
		}
		b.WriteString("    ports:\n")
		for i, mac := range m.MACs {
			if m.NoNetwork {
				fmt.Fprintf(&b, "      - {mac: %q}\n", mac)
				continue
			}
			fmt.Fprintf(&b, "      - {mac: %q, network: %s, fixed_ips: [%s]}\n", mac, network, m.IPs[i])
		}
	}
	return b.String()
}

// migCSV writes ms as a CSV inventory (one row per machine).
func migCSV(ms []migMachine, network string) string {
	var b strings.Builder
	b.WriteString("name,driver,driver_info,secrets,resource_class,image,power_state,macs,network,fixed_ips\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "%s,%s,ipmi_address=192.0.2.10;ipmi_username=admin,ipmi_password,baremetal,%s,%s,%s,%s,%s\n",
			m.Name, migOr(m.Driver, "fake-hardware"), m.Image, m.PowerState, strings.Join(m.MACs, ";"), network, strings.Join(m.IPs, ";"))
	}
	return b.String()
}

func migOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// migWriteInventory writes an inventory and the secrets file giving every
// machine migSecret (chmod 600), and returns their paths.
func migWriteInventory(t *testing.T, name, text string) (inventory, secrets string) {
	t.Helper()
	dir := t.TempDir()
	inventory, secrets = filepath.Join(dir, name), filepath.Join(dir, "secrets.yaml")
	if err := os.WriteFile(inventory, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	text = fmt.Sprintf("\"*\":\n  ipmi_password: %s\n  redfish_password: %s\n", migSecret, migSecret)
	if err := os.WriteFile(secrets, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return inventory, secrets
}

// migResult is one machine of `mogan migrate -f json`.
type migResult struct {
	Machine       string         `json:"machine"`
	MigrationUUID *string        `json:"migration_uuid"`
	NodeUUID      *string        `json:"node_uuid"`
	ServerUUID    *string        `json:"server_uuid"`
	Outcome       string         `json:"outcome"`
	Reason        *string        `json:"reason"`
	RequestID     *string        `json:"request_id"`
	Plan          map[string]any `json:"plan"`
}

// migResults decodes `mogan migrate -f json`, by machine.
func migResults(t *testing.T, r cliResult) map[string]migResult {
	t.Helper()
	var list []migResult
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		t.Fatalf("mogan migrate -f json: exit %d, %v\nstdout: %s\nstderr: %s", r.code, err, r.stdout, r.stderr)
	}
	out := make(map[string]migResult, len(list))
	for _, m := range list {
		if _, dup := out[m.Machine]; dup {
			t.Errorf("machine %s twice in the results", m.Machine)
		}
		out[m.Machine] = m
	}
	return out
}

// outcomes counts results by outcome.
func migOutcomes(rs map[string]migResult) map[string]int {
	out := map[string]int{}
	for _, r := range rs {
		out[r.Outcome]++
	}
	return out
}

// migView is a migration as GET /v1/migrations shows it.
type migView struct {
	UUID   string `json:"uuid"`
	Status string `json:"status"`
	Source struct {
		Machine *struct {
			Name *string `json:"name"`
		} `json:"machine"`
	} `json:"source"`
	NodeUUID   string  `json:"node_uuid"`
	ServerUUID *string `json:"server_uuid"`
	Steps      []struct {
		Name   string  `json:"name"`
		Status string  `json:"status"`
		Error  *string `json:"error"`
	} `json:"steps"`
	RequestID *string `json:"request_id"`
	Error     *string `json:"error"`
}

// machineName is the described machine's name ("" for none).
func (m migView) machineName() string {
	if m.Source.Machine == nil || m.Source.Machine.Name == nil {
		return ""
	}
	return *m.Source.Machine.Name
}

// String is the migration in a failure message: its status, steps and
// error.
func (m migView) String() string {
	var steps []string
	for _, s := range m.Steps {
		e := ""
		if s.Error != nil {
			e = ": " + *s.Error
		}
		steps = append(steps, s.Name+" "+s.Status+e)
	}
	return fmt.Sprintf("migration %s (machine %q, node %s) %s, steps [%s], error %q", m.UUID, m.machineName(), m.NodeUUID, m.Status,
		strings.Join(steps, "; "), deref(m.Error))
}

// migList reads every migration through the API, following the
// listing's next links.
func migList(t *testing.T, hostURL string) []migView {
	t.Helper()
	var out []migView
	next := hostURL + "/v1/migrations?limit=500"
	for next != "" {
		code, body := status(t, next)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", next, code, body)
		}
		var page struct {
			Migrations []migView `json:"migrations"`
			Links      []migLink `json:"migrations_links"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Migrations...)
		next = ""
		for _, l := range page.Links {
			if l.Rel == "next" {
				next = l.Href
			}
		}
	}
	return out
}

// migLink is a listing's link.
type migLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// migGet reads one migration.
func migGet(t *testing.T, hostURL, id string) migView {
	t.Helper()
	code, body := status(t, hostURL+"/v1/migrations/"+id)
	if code != http.StatusOK {
		t.Fatalf("GET migration %s: %d %s", id, code, body)
	}
	var m migView
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// migFinal reports whether a migration's status is final.
func migFinal(status string) bool {
	return status == "done" || status == "failed" || status == "rolled_back"
}

// migWait waits (at most limit) until every migration the host
// lists is final, and returns them.
func migWait(t *testing.T, hostURL string, limit time.Duration) []migView {
	t.Helper()
	var ms []migView
	wrong := settle(limit, func() string {
		ms = migList(t, hostURL)
		for _, m := range ms {
			if !migFinal(m.Status) {
				return m.String() + " is not final"
			}
		}
		return ""
	})
	if wrong != "" {
		t.Fatalf("after %s: %s", limit, wrong)
	}
	return ms
}

// migNode is a node as the migration checks read it from Ironic.
type migNode struct {
	UUID            string         `json:"uuid"`
	Name            *string        `json:"name"`
	ProvisionState  string         `json:"provision_state"`
	PowerState      *string        `json:"power_state"`
	Protected       bool           `json:"protected"`
	ProtectedReason *string        `json:"protected_reason"`
	AutomatedClean  *bool          `json:"automated_clean"`
	InstanceUUID    *string        `json:"instance_uuid"`
	Maintenance     bool           `json:"maintenance"`
	LastError       *string        `json:"last_error"`
	Extra           map[string]any `json:"extra"`
	DriverInfo      map[string]any `json:"driver_info"`
	InstanceInfo    map[string]any `json:"instance_info"`
}

// marker is the migration that created the node ("" for none).
func (n migNode) marker() string {
	s, _ := n.Extra["mogan_migration_id"].(string)
	return s
}

// migPort is a port as the checks read it.
type migPort struct {
	UUID     string         `json:"uuid"`
	Address  string         `json:"address"`
	NodeUUID string         `json:"node_uuid"`
	Extra    map[string]any `json:"extra"`
}

// migIronicList reads every item of an Ironic collection (nodes, ports),
// following its next links, at the newest microversion.
func migIronicList[T any](t *testing.T, ironicURL, collection, fields string) []T {
	t.Helper()
	var out []T
	next := fmt.Sprintf("%s/v1/%s?fields=%s&limit=1000", ironicURL, collection, url.QueryEscape(fields))
	for next != "" {
		var page map[string]json.RawMessage
		ironicGet(t, next, "", &page)
		var items []T
		if err := json.Unmarshal(page[collection], &items); err != nil {
			t.Fatalf("Ironic's %s: %v", collection, err)
		}
		out = append(out, items...)
		next = ""
		if raw, ok := page["next"]; ok {
			_ = json.Unmarshal(raw, &next)
		}
	}
	return out
}

const migNodeFields = "uuid,name,provision_state,power_state,protected,protected_reason,automated_clean,instance_uuid," +
	"maintenance,last_error,extra,driver_info,instance_info"

// migIronicNodes reads every node of Ironic, by uuid.
func migIronicNodes(t *testing.T, ironicURL string) map[string]migNode {
	t.Helper()
	out := map[string]migNode{}
	for _, n := range migIronicList[migNode](t, ironicURL, "nodes", migNodeFields) {
		out[n.UUID] = n
	}
	return out
}

// migIronicPorts reads every port of Ironic, by node.
func migIronicPorts(t *testing.T, ironicURL string) map[string][]migPort {
	t.Helper()
	out := map[string][]migPort{}
	for _, p := range migIronicList[migPort](t, ironicURL, "ports", "uuid,address,node_uuid,extra") {
		out[p.NodeUUID] = append(out[p.NodeUUID], p)
	}
	return out
}

// migMarkedNodes are Ironic's nodes carrying a migration's marker.
func migMarkedNodes(t *testing.T, ironicURL string) map[string]migNode {
	t.Helper()
	out := map[string]migNode{}
	for id, n := range migIronicNodes(t, ironicURL) {
		if n.marker() != "" {
			out[id] = n
		}
	}
	return out
}

// migNeutronPort is a Neutron port as the checks read it.
type migNeutronPort struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	NetworkID string `json:"network_id"`
	MAC       string `json:"mac_address"`
	FixedIPs  []struct {
		IPAddress string `json:"ip_address"`
	} `json:"fixed_ips"`
	HostID   string `json:"binding:host_id"`
	VNICType string `json:"binding:vnic_type"`
}

// migration is the migration that created the port ("" for none).
func (p migNeutronPort) migration() string {
	id, _ := strings.CutPrefix(p.Name, migPortPrefix)
	if id == p.Name {
		return ""
	}
	return id
}

// ips are the port's fixed IPs.
func (p migNeutronPort) ips() []string {
	var out []string
	for _, f := range p.FixedIPs {
		out = append(out, f.IPAddress)
	}
	return out
}

// migOurPorts are the Neutron ports migrations created, by id.
func migOurPorts(t *testing.T, c *cloud.Cloud) map[string]migNeutronPort {
	t.Helper()
	var list struct {
		Ports []migNeutronPort `json:"ports"`
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := c.Neutron.Request(ctx, http.MethodGet, "/ports", nil, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]migNeutronPort{}
	for _, p := range list.Ports {
		if p.migration() != "" {
			out[p.ID] = p
		}
	}
	return out
}

// migEdges are the provision-state changes a migration may make:
// manage (enroll → verifying → manageable, or back to enroll when the BMC
// does not answer) and adopt (manageable → adopting → active).
var migEdges = map[string]bool{
	"enroll>verifying": true, "verifying>manageable": true, "verifying>enroll": true,
	"manageable>adopting": true, "adopting>active": true,
}

// touched says what Ironic's log shows was done to the node beyond what
// a migration may do: a provision state other than enroll, verifying,
// manageable, adopting and active, a change out of their order, or any
// power action. "" when nothing; states are the states it went through.
func migTouched(t *testing.T, srv *ironic.Server, node string) (states []string, wrong string) {
	t.Helper()
	states, err := srv.ProvisionStates(node)
	if err != nil {
		t.Fatal(err)
	}
	power, err := srv.PowerChanges(node)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	if len(states) > 0 && states[0] != "enroll" {
		bad = append(bad, "first state "+states[0])
	}
	for i := 1; i < len(states); i++ {
		if edge := states[i-1] + ">" + states[i]; !migEdges[edge] {
			bad = append(bad, "moved "+strings.Replace(edge, ">", " → ", 1))
		}
	}
	for _, p := range power {
		bad = append(bad, fmt.Sprintf("power action %s → %s", p.From, p.To))
	}
	if len(bad) == 0 {
		return states, ""
	}
	return states, fmt.Sprintf("node %s was touched: %s (states %v)", node, strings.Join(bad, "; "), states)
}

// migCheckUntouched fails the test for every node of nodes that Ironic's log
// shows touched, and returns how often each sequence of states was seen.
func migCheckUntouched(t *testing.T, srv *ironic.Server, nodes []string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for _, n := range nodes {
		states, wrong := migTouched(t, srv, n)
		if wrong != "" {
			t.Error(wrong)
		}
		seen[strings.Join(states, " → ")]++
	}
	return seen
}

// migServer is a server as the checks read it.
type migServer struct {
	UUID      string  `json:"uuid"`
	Name      string  `json:"name"`
	NodeUUID  string  `json:"node_uuid"`
	Status    string  `json:"status"`
	ImageUUID *string `json:"image_uuid"`
	Addresses map[string][]struct {
		Addr string `json:"addr"`
		Type string `json:"type"`
	} `json:"addresses"`
}

// migServers reads every server, by node (a node twice fails the test:
// a duplicate).
func migServers(t *testing.T, hostURL string) map[string]migServer {
	t.Helper()
	code, body := status(t, hostURL+"/v1/servers/detail")
	if code != http.StatusOK {
		t.Fatalf("servers: %d %s", code, body)
	}
	var list struct {
		Servers []migServer `json:"servers"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]migServer{}
	for _, s := range list.Servers {
		if prev, dup := out[s.NodeUUID]; dup {
			t.Errorf("node %s is adopted twice: servers %s and %s", s.NodeUUID, prev.UUID, s.UUID)
		}
		out[s.NodeUUID] = s
	}
	return out
}

// migMarks are the Ironic nodes carrying a migration's marker and the
// Neutron ports of ours, by id: what a test's migrations may have added
// to the shared cloud is what is not in it before.
func migMarks(t *testing.T, c *cloud.Cloud) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for id := range migMarkedNodes(t, c.Ironic.URL) {
		out[id] = true
	}
	for id := range migOurPorts(t, c) {
		out[id] = true
	}
	return out
}

// migLeftovers says what refused or rolled-back migrations left behind
// since before (migMarks): a node with a marker whose migration is not
// done, a Neutron port of ours whose migration is not done. "" when
// nothing.
func migLeftovers(t *testing.T, c *cloud.Cloud, before, done map[string]bool) string {
	t.Helper()
	var left []string
	for id, n := range migMarkedNodes(t, c.Ironic.URL) {
		if !before[id] && !done[n.marker()] {
			left = append(left, fmt.Sprintf("node %s (%s, %s) of migration %s", id, deref(n.Name), n.ProvisionState, n.marker()))
		}
	}
	for id, p := range migOurPorts(t, c) {
		if !before[id] && !done[p.migration()] {
			left = append(left, fmt.Sprintf("Neutron port %s (MAC %s, %v, bound %q) of migration %s", id, p.MAC, p.ips(), p.HostID, p.migration()))
		}
	}
	slices.Sort(left)
	return strings.Join(left, "\n")
}

// migDone are the uuids of the host's done migrations.
func migDone(ms []migView) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		if m.Status == "done" {
			out[m.UUID] = true
		}
	}
	return out
}

// migCheckMigrated checks a machine migrated by migration m: in Ironic
// active, its ports with their VIFs, automated_clean off, protected (by
// the adoption's interlock when adopted, keeping the migration's
// protection as the one to restore; else by the migration); with a
// server, its addresses from the Neutron ports the migration created,
// each with the machine's MAC and fixed IP, bound to the node as
// baremetal. It returns what is wrong ("" when nothing).
func migCheckMigrated(mc migMachine, m migView, n migNode, ports []migPort, neutron map[string]migNeutronPort,
	srv *migServer, image string,
) string {
	var bad []string
	wrong := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	migReason := "mogan-manage migration " + m.UUID
	if m.Status != "done" {
		wrong("migration %s", m.Status)
	}
	if deref(n.Name) != mc.Name || n.ProvisionState != "active" || n.marker() != m.UUID {
		wrong("Ironic node name %q, provision state %s, marker %q", deref(n.Name), n.ProvisionState, n.marker())
	}
	if n.AutomatedClean == nil || *n.AutomatedClean {
		wrong("automated_clean %v, want false", n.AutomatedClean)
	}
	if got, _ := n.InstanceInfo["image_source"].(string); got != mc.Image {
		wrong("instance_info.image_source %q, want %q", got, mc.Image)
	}
	if srv == nil {
		if !n.Protected || deref(n.ProtectedReason) != migReason {
			wrong("protected %v (%q), want the reason %q", n.Protected, deref(n.ProtectedReason), migReason)
		}
		if deref(n.InstanceUUID) != "" {
			wrong("associated with %s without a server", deref(n.InstanceUUID))
		}
	} else {
		interlock, _ := n.Extra["mogan_interlock"].(map[string]any)
		if !n.Protected || deref(n.ProtectedReason) != "adopted by mogan-manage server "+srv.UUID ||
			interlock["protected"] != true || interlock["protected_reason"] != migReason {
			wrong("protected %v (%q), interlock record %v; want the adoption's protection over the migration's (%q)",
				n.Protected, deref(n.ProtectedReason), interlock, migReason)
		}
		if deref(n.InstanceUUID) != srv.UUID || deref(m.ServerUUID) != srv.UUID || srv.Status != "active" || srv.Name != mc.Name {
			wrong("Ironic instance_uuid %q, migration's server %q, server %s %q %s", deref(n.InstanceUUID), deref(m.ServerUUID), srv.UUID, srv.Name, srv.Status)
		}
		if deref(srv.ImageUUID) != mc.Image {
			wrong("server image_uuid %q, want %s", deref(srv.ImageUUID), mc.Image)
		}
	}
	byMAC := map[string]migPort{}
	for _, p := range ports {
		byMAC[p.Address] = p
	}
	if len(ports) != len(mc.MACs) {
		wrong("%d Ironic ports, want %d", len(ports), len(mc.MACs))
	}
	var addrs []string
	for i, mac := range mc.MACs {
		p, ok := byMAC[mac]
		if !ok {
			wrong("no Ironic port with MAC %s", mac)
			continue
		}
		vif, _ := p.Extra["vif_port_id"].(string)
		if mc.NoNetwork {
			if vif != "" {
				wrong("port %s: VIF %s where the machine names no network", mac, vif)
			}
			continue
		}
		np, ok := neutron[vif]
		switch {
		case !ok:
			wrong("port %s: VIF %q is no Neutron port the migration made", mac, vif)
			continue
		case np.migration() != m.UUID || np.MAC != mac || !slices.Equal(np.ips(), []string{mc.IPs[i]}):
			wrong("port %s: Neutron port %s of migration %q, MAC %s, fixed IPs %v; want %s", mac, np.ID, np.migration(), np.MAC, np.ips(), mc.IPs[i])
		}
		if srv != nil && (np.HostID != n.UUID || np.VNICType != "baremetal") {
			wrong("port %s: Neutron port %s bound %q/%q, want %s/baremetal", mac, np.ID, np.HostID, np.VNICType, n.UUID)
		}
		addrs = append(addrs, np.NetworkID+"/"+mc.IPs[i])
	}
	if srv != nil {
		var got []string
		for network, list := range srv.Addresses {
			for _, a := range list {
				got = append(got, network+"/"+a.Addr)
				if a.Type != "fixed" {
					wrong("address %s type %q", a.Addr, a.Type)
				}
			}
		}
		slices.Sort(got)
		slices.Sort(addrs)
		if !slices.Equal(got, addrs) {
			wrong("server addresses %v, want %v", got, addrs)
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return fmt.Sprintf("machine %s (%s): %s", mc.Name, m.String(), strings.Join(bad, "; "))
}

// migLogLines are the lines of text holding any of needles (at most max).
func migLogLines(text string, max int, needles ...string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		for _, n := range needles {
			if n != "" && strings.Contains(line, n) {
				out = append(out, line)
				break
			}
		}
		if len(out) == max {
			out = append(out, "…")
			break
		}
	}
	return strings.Join(out, "\n")
}

// dumpDatabase writes every row of every table of the host's database
// (SQLite at a path, or a PostgreSQL URL) as text, one line a row,
// prefixed by its table: what the store holds, the intent log, the
// actions and the tombstones included.
func dumpDatabase(t *testing.T, db *sql.DB, tablesQuery string) string {
	t.Helper()
	var tables []string
	rows, err := db.QueryContext(t.Context(), tablesQuery)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, table := range tables {
		rows, err := db.QueryContext(t.Context(), `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s:", table)
			for i, v := range vals {
				if raw, ok := v.([]byte); ok {
					v = string(raw)
				}
				fmt.Fprintf(&b, " %s=%v", cols[i], v)
			}
			b.WriteString("\n")
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if len(tables) == 0 {
		t.Fatal("the database has no tables")
	}
	return b.String()
}

// dumpSQLite dumps the host's SQLite database.
func dumpSQLite(t *testing.T, path string) string {
	t.Helper()
	return dumpDatabase(t, openSQLite(t, path), `SELECT name FROM sqlite_master WHERE type = 'table'`)
}

// dumpPostgres dumps the host's PostgreSQL database.
func dumpPostgres(t *testing.T, conn string) string {
	t.Helper()
	db, err := sql.Open("pgx", conn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	return dumpDatabase(t, db, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`)
}

// secretHits are the places where migSecret shows in text, each with some
// context, named by where.
func secretHits(where, text string) []string {
	var out []string
	for i := 0; ; {
		j := strings.Index(text[i:], migSecret)
		if j < 0 {
			return out
		}
		at := i + j
		out = append(out, fmt.Sprintf("%s: …%s…", where, text[max(0, at-200):min(len(text), at+len(migSecret)+60)]))
		i = at + len(migSecret)
	}
}

// migStartHost is startHost for the migration tests: a failing test shows
// the lines of the host's log its messages pick (the migration's, the
// node's), not each host's whole log — the kill matrix runs thirty.
// Only the host's warnings and errors follow a failure, at most 20.
func migStartHost(t *testing.T, conf string) *host {
	t.Helper()
	h := spawnHost(t, conf, nil)
	t.Cleanup(func() {
		h.stop(t)
		if t.Failed() {
			if lines := migLogLines(h.logs.String(), 20, "[ERROR]", "[WARN]"); lines != "" {
				t.Logf("mogan-api at %s, its warnings and errors:\n%s", h.URL, lines)
			}
		}
	})
	for deadline := time.Now().Add(60 * time.Second); !h.started(); time.Sleep(50 * time.Millisecond) {
		select {
		case <-h.done:
			t.Fatalf("mogan-api exited at start-up:\n%s", migTail(h.logs.String(), 30))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mogan-api did not answer in 60 s:\n%s", migTail(h.logs.String(), 30))
		}
	}
	return h
}
