package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/testenv/ironic"
)

// Several backends in one host (issue 16 §4): two real standalone Ironics
// as the backends east and west, both served by the one
// mogan-driver-ironic binary (a plugin process each), and a noop backend,
// idle, configured between them.

// backendOrder is enabled_backends of the two-Ironic hosts.
var backendOrder = []string{"east", "idle", "west"}

// twoIronics starts two standalone Ironics at once (each takes a while),
// stopped at the end of the test.
func twoIronics(t *testing.T) (east, west *ironic.Server) {
	t.Helper()
	var (
		srvs [2]*ironic.Server
		errs [2]error
		wg   sync.WaitGroup
	)
	for i := range srvs {
		wg.Go(func() {
			srvs[i], errs[i] = ironic.Start(t.Context(), ironic.Options{Dir: t.TempDir(), DieWithParent: true})
		})
	}
	wg.Wait()
	for i, srv := range srvs {
		if srv != nil {
			t.Cleanup(func() { _ = srv.Stop() })
		}
		if errs[i] != nil {
			t.Fatalf("starting Ironic %d: %v", i, errs[i])
		}
	}
	return srvs[0], srvs[1]
}

// enroll makes the fixture's nodes of mix in srv.
func enroll(t *testing.T, srv *ironic.Server, mix ironic.Mix) []ironic.Node {
	t.Helper()
	nodes, err := srv.Fixture().Enroll(t.Context(), mix)
	if err != nil {
		t.Fatal(err)
	}
	return nodes
}

// backendsConfig is a host whose enabled_backends are east (the Ironic at
// eastURL), idle (noop) and west (the Ironic at westURL); eastExtra goes
// in [east] (e.g. its own call_timeout).
func backendsConfig(t *testing.T, eastURL, westURL, eastExtra string) string {
	t.Helper()
	conf := hostConfig(t, "", fmt.Sprintf(`call_timeout = 60

[east]
driver = ironic
url = %s
auth_type = none
%s
[idle]
driver = noop

[west]
driver = ironic
url = %s
auth_type = none
`, eastURL, eastExtra, westURL))
	return strings.Replace(conf, "[DEFAULT]\n", "[DEFAULT]\nenabled_backends = "+strings.Join(backendOrder, ", ")+"\n", 1)
}

// backendNode is a manageable listing entry: the node and its backend.
type backendNode struct {
	UUID       string `json:"uuid"`
	Backend    string `json:"backend"`
	Manageable *bool  `json:"manageable,omitempty"`
}

// listingPage is one answer of GET /v1/manageable_servers.
type listingPage struct {
	Nodes []backendNode `json:"manageable_servers"`
	Links []struct {
		Href string `json:"href"`
		Rel  string `json:"rel"`
	} `json:"manageable_servers_links"`
}

// listPage GETs one listing page; anything but 200 fails the test.
func listPage(t *testing.T, url string) listingPage {
	t.Helper()
	code, body := status(t, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, code, body)
	}
	var page listingPage
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, body)
	}
	return page
}

// listPaged walks the listing from url page by page, following each
// page's next link, and returns every node in order with the number of
// pages read.
func listPaged(t *testing.T, url string) ([]backendNode, int) {
	t.Helper()
	var all []backendNode
	for pages := 1; ; pages++ {
		if pages > 100 {
			t.Fatalf("more than 100 pages from %s", url)
		}
		page := listPage(t, url)
		all = append(all, page.Nodes...)
		next := ""
		for _, l := range page.Links {
			if l.Rel == "next" {
				next = l.Href
			}
		}
		if next == "" {
			return all, pages
		}
		url = next
	}
}

// byBackend groups a listing's uuids by backend, each group sorted.
func byBackend(nodes []backendNode) map[string][]string {
	out := map[string][]string{}
	for _, n := range nodes {
		out[n.Backend] = append(out[n.Backend], n.UUID)
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}

// uuidsOf are the uuids of nodes, sorted, plus extra.
func uuidsOf(nodes []ironic.Node, extra ...string) []string {
	out := slices.Clone(extra)
	for _, n := range nodes {
		out = append(out, n.UUID)
	}
	slices.Sort(out)
	return out
}

// inBackendOrder says what is wrong with a listing's order: every node
// of a backend comes before those of the backends after it.
func inBackendOrder(nodes []backendNode) string {
	last := -1
	for i, n := range nodes {
		at := slices.Index(backendOrder, n.Backend)
		if at < last {
			return fmt.Sprintf("node %d (%s) of backend %q comes after backend %q", i, n.UUID, n.Backend, backendOrder[last])
		}
		last = at
	}
	return ""
}

// adoptBody is a manage body for node, naming backend when it is not "".
func adoptBody(name, node, backend string) string {
	body := map[string]string{"name": name, "node_uuid": node}
	if backend != "" {
		body["backend"] = backend
	}
	b, _ := json.Marshal(body)
	return string(b)
}

// interlockFields are what adoption and unmanage change on an Ironic node.
const interlockFields = "uuid,instance_uuid,protected,protected_reason,automated_clean,extra"

// ironicState reads node's interlock fields from the Ironic at url.
func ironicState(t *testing.T, url, node string) map[string]any {
	t.Helper()
	var n map[string]any
	ironicGet(t, url, "/v1/nodes/"+node+"?fields="+interlockFields, &n)
	return n
}

// serverBackends maps each server's uuid to its backend, read through
// the API.
func serverBackends(t *testing.T, hostURL string) map[string]string {
	t.Helper()
	code, body := status(t, hostURL+"/v1/servers/detail")
	if code != http.StatusOK {
		t.Fatalf("servers: %d %s", code, body)
	}
	var list struct {
		Servers []struct {
			UUID    string `json:"uuid"`
			Backend string `json:"backend"`
		} `json:"servers"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range list.Servers {
		out[s.UUID] = s.Backend
	}
	return out
}

// backendView is one entry of GET /v1/backends.
type backendView struct {
	Name         string   `json:"name"`
	Driver       *string  `json:"driver"`
	Version      *string  `json:"version"`
	Capabilities []string `json:"capabilities"`
	Status       string   `json:"status"`
	Reason       *string  `json:"reason"`
}

// backendsOf reads GET /v1/backends.
func backendsOf(t *testing.T, hostURL string) []backendView {
	t.Helper()
	code, body := status(t, hostURL+"/v1/backends")
	if code != http.StatusOK {
		t.Fatalf("GET /v1/backends: %d %s", code, body)
	}
	var out struct {
		Backends []backendView `json:"backends"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("GET /v1/backends: %v\n%s", err, body)
	}
	return out.Backends
}

// backendStatuses is name → status of GET /v1/backends.
func backendStatuses(t *testing.T, hostURL string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, b := range backendsOf(t, hostURL) {
		out[b.Name] = b.Status
	}
	return out
}

// pluginLine is a log line of the host's plugin manager announcing a
// plugin process; backend= and pid= are read from it.
var (
	pluginLine  = regexp.MustCompile(`driver plugin (?:re)?started`)
	backendAttr = regexp.MustCompile(`\bbackend=(\S+)`)
	pidAttr     = regexp.MustCompile(`\bpid=(\d+)`)
)

// backendPID is the pid of backend's running plugin process: the latest
// one the host's log announces for it that is a live child of the host
// (it waits up to 10 s for one).
func (h *host) backendPID(t *testing.T, backend string) int {
	t.Helper()
	var pid int
	eventually(t, 10*time.Second, func() string {
		pid = 0
		for line := range strings.SplitSeq(h.logs.String(), "\n") {
			b, p := backendAttr.FindStringSubmatch(line), pidAttr.FindStringSubmatch(line)
			if !pluginLine.MatchString(line) || b == nil || p == nil || b[1] != backend {
				continue
			}
			pid, _ = strconv.Atoi(p[1])
		}
		if pid == 0 || !slices.Contains(childPIDs(t, h.pid()), pid) {
			return fmt.Sprintf("no running plugin of backend %s announced (latest pid %d; children %v)", backend, pid, childPIDs(t, h.pid()))
		}
		return ""
	})
	return pid
}

// TestTwoBackendsListAndAdopt is the quick two-Ironic case: the listing
// holds both Ironics' nodes, each with its backend, east's before west's
// (noop left out); ?backend=; paging across the boundary; adoptions from
// each, with and without "backend"; a node in both → 409; unmanage
// releases the node in its own Ironic only; GET /v1/backends; the CLI's
// --backend.
func TestTwoBackendsListAndAdopt(t *testing.T) {
	east, west := twoIronics(t)
	eastNodes := enroll(t, east, ironic.Mix{Adoptable: 3})
	westNodes := enroll(t, west, ironic.Mix{Adoptable: 3, Maintenance: 1})
	westAdoptable, westMaintenance := westNodes[:3], westNodes[3]
	// Two node uuids in both Ironics: shared is adopted naming its
	// backend, dup is refused without.
	shared, dup := uuid.NewString(), uuid.NewString()
	for _, id := range []string{shared, dup} {
		for _, srv := range []*ironic.Server{east, west} {
			if _, err := srv.Fixture().EnrollNode(t.Context(), id, ironic.KindAdoptable, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantEast, wantWest := uuidsOf(eastNodes, shared, dup), uuidsOf(westAdoptable, shared, dup)
	h := startHost(t, backendsConfig(t, east.URL, west.URL, ""))
	list := h.URL + "/v1/manageable_servers"

	full := listPage(t, list)
	t.Run("listing", func(t *testing.T) {
		want := map[string][]string{"east": wantEast, "west": wantWest}
		if diff := cmp.Diff(want, byBackend(full.Nodes)); diff != "" {
			t.Errorf("nodes by backend (-want +got):\n%s", diff)
		}
		if wrong := inBackendOrder(full.Nodes); wrong != "" {
			t.Errorf("listing out of enabled_backends order: %s", wrong)
		}
		if len(full.Links) != 0 {
			t.Errorf("an unpaged listing has links %v", full.Links)
		}
	})

	t.Run("?backend=", func(t *testing.T) {
		for name, tc := range map[string]struct {
			query    string
			want     map[string][]string
			wantCode int
			wantText string
		}{
			"east":             {query: "?backend=east", want: map[string][]string{"east": wantEast}},
			"west":             {query: "?backend=west", want: map[string][]string{"west": wantWest}},
			"west, all=true":   {query: "?backend=west&all=true", want: map[string][]string{"west": uuidsOf(westNodes, shared, dup)}},
			"noop named alone": {query: "?backend=idle", wantCode: http.StatusNotImplemented},
			"unknown":          {query: "?backend=north", wantCode: http.StatusBadRequest, wantText: `Unknown backend "north": the backends are east, idle, west.`},
		} {
			t.Run(name, func(t *testing.T) {
				if tc.wantCode != 0 {
					code, body := status(t, list+tc.query)
					if code != tc.wantCode || !strings.Contains(bodyFaultString(t, body), tc.wantText) {
						t.Errorf("GET %s: %d %s; want %d with %q", tc.query, code, body, tc.wantCode, tc.wantText)
					}
					return
				}
				got := listPage(t, list+tc.query).Nodes
				if diff := cmp.Diff(tc.want, byBackend(got)); diff != "" {
					t.Errorf("nodes by backend (-want +got):\n%s", diff)
				}
				for _, n := range got {
					if wantManageable := n.UUID != westMaintenance.UUID; n.Manageable != nil && *n.Manageable != wantManageable {
						t.Errorf("node %s: manageable %v; want %v", n.UUID, *n.Manageable, wantManageable)
					}
				}
			})
		}
	})

	// east has 5 nodes, west 5: every limit below crosses from one
	// backend to the other, on a page boundary (5) or inside a page.
	t.Run("paging", func(t *testing.T) {
		for _, limit := range []int{1, 3, 5, 7} {
			t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
				paged, pages := listPaged(t, fmt.Sprintf("%s?limit=%d", list, limit))
				if diff := cmp.Diff(full.Nodes, paged); diff != "" {
					t.Errorf("paged listing (-unpaged +paged):\n%s", diff)
				}
				if want := len(full.Nodes)/limit + 1; pages != want {
					t.Errorf("%d pages; want %d", pages, want)
				}
			})
		}
	})

	// Adoptions: the server records its backend, and only that backend's
	// Ironic names it.
	type adoption struct {
		node, backend string // backend "" lets the host find it
		in, other     *ironic.Server
		want          string
	}
	adopted := map[string]adoption{} // by server uuid
	sharedEast := ironicState(t, east.URL, shared)
	for name, tc := range map[string]adoption{
		"from east, found":      {eastNodes[0].UUID, "", east, west, "east"},
		"from east, named":      {eastNodes[1].UUID, "east", east, west, "east"},
		"from west, found":      {westAdoptable[0].UUID, "", west, east, "west"},
		"from west, named":      {westAdoptable[1].UUID, "west", west, east, "west"},
		"the shared one, named": {shared, "west", west, east, "west"},
	} {
		t.Run("adopt "+name, func(t *testing.T) {
			code, body := post(t, list, adoptBody("n", tc.node, tc.backend))
			if code != http.StatusCreated {
				t.Fatalf("adopt %s: %d %s", tc.node, code, body)
			}
			var srv struct {
				UUID    string `json:"uuid"`
				Backend string `json:"backend"`
			}
			if err := json.Unmarshal([]byte(body), &srv); err != nil {
				t.Fatal(err)
			}
			adopted[srv.UUID] = tc
			if srv.Backend != tc.want {
				t.Errorf("server backend %q; want %q", srv.Backend, tc.want)
			}
			if got := ironicState(t, tc.in.URL, tc.node)["instance_uuid"]; got != srv.UUID {
				t.Errorf("the %s Ironic's instance_uuid %v; want %s", tc.want, got, srv.UUID)
			}
		})
	}
	want := map[string]string{}
	for srv, a := range adopted {
		want[srv] = a.want
	}
	if diff := cmp.Diff(want, serverBackends(t, h.URL)); diff != "" {
		t.Errorf("servers' backends read back (-adopted +read):\n%s", diff)
	}
	if diff := cmp.Diff(sharedEast, ironicState(t, east.URL, shared)); diff != "" {
		t.Errorf("adopting the shared node from west changed it in east (-before +after):\n%s", diff)
	}

	t.Run("refusals", func(t *testing.T) {
		for name, tc := range map[string]struct {
			body     string
			wantCode int
			wantText []string
		}{
			"in both backends":      {adoptBody("x", dup, ""), http.StatusConflict, []string{dup, "east", "west", `"backend"`}},
			"west's node from east": {adoptBody("x", westAdoptable[2].UUID, "east"), http.StatusNotFound, []string{westAdoptable[2].UUID}},
			"unknown backend":       {adoptBody("x", westAdoptable[2].UUID, "north"), http.StatusBadRequest, []string{`"north"`}},
			"from noop":             {adoptBody("x", westAdoptable[2].UUID, "idle"), http.StatusNotImplemented, nil},
		} {
			t.Run(name, func(t *testing.T) {
				code, body := post(t, list, tc.body)
				if code != tc.wantCode {
					t.Fatalf("POST %s: %d %s; want %d", tc.body, code, body, tc.wantCode)
				}
				for _, want := range tc.wantText {
					if fs := bodyFaultString(t, body); !strings.Contains(fs, want) {
						t.Errorf("faultstring %q lacks %q", fs, want)
					}
				}
			})
		}
	})

	// Unmanage clears instance_uuid in the server's own Ironic; the other
	// Ironic's node of the same uuid stays exactly as it was.
	t.Run("unmanage", func(t *testing.T) {
		for srv, a := range adopted {
			var otherBefore map[string]any
			if a.node == shared {
				otherBefore = ironicState(t, a.other.URL, a.node)
			}
			if code, body := post(t, h.URL+"/v1/servers/"+srv+"/unmanage", ""); code != http.StatusNoContent {
				t.Fatalf("unmanage %s: %d %s", srv, code, body)
			}
			if got := ironicState(t, a.in.URL, a.node)["instance_uuid"]; got != nil {
				t.Errorf("server %s (%s): node %s's instance_uuid in its Ironic %v after unmanage; want null", srv, a.want, a.node, got)
			}
			if otherBefore != nil {
				if diff := cmp.Diff(otherBefore, ironicState(t, a.other.URL, a.node)); diff != "" {
					t.Errorf("unmanaging the shared node from %s changed the other Ironic's (-before +after):\n%s", a.want, diff)
				}
			}
		}
	})

	t.Run("GET /v1/backends", func(t *testing.T) {
		var names []string
		for _, b := range backendsOf(t, h.URL) {
			names = append(names, b.Name)
			if b.Status != "up" || b.Reason != nil || deref(b.Version) == "" {
				t.Errorf("backend %s: status %q reason %q version %q; want up, no reason, a version", b.Name, b.Status, deref(b.Reason), deref(b.Version))
			}
			wantDriver, discovers := "ironic", true
			if b.Name == "idle" {
				wantDriver, discovers = "noop", false
			}
			if deref(b.Driver) != wantDriver || slices.Contains(b.Capabilities, "discover") != discovers {
				t.Errorf("backend %s: driver %q capabilities %v; want driver %q, discover %v", b.Name, deref(b.Driver), b.Capabilities, wantDriver, discovers)
			}
			if discovers && !slices.Contains(b.Capabilities, "adopt") {
				t.Errorf("backend %s: capabilities %v lack adopt", b.Name, b.Capabilities)
			}
		}
		if diff := cmp.Diff(backendOrder, names); diff != "" {
			t.Errorf("backends (-want +got):\n%s", diff)
		}
	})

	t.Run("CLI --backend", func(t *testing.T) {
		env := []string{"MOGAN_URL=" + h.URL}
		r := runMogan(t, env, "manageable", "list", "--backend", "west", "-f", "json")
		var nodes []backendNode
		if err := json.Unmarshal([]byte(r.stdout), &nodes); r.code != 0 || err != nil {
			t.Fatalf("mogan manageable list --backend west: exit %d %v\n%s%s", r.code, err, r.stdout, r.stderr)
		}
		if diff := cmp.Diff(map[string][]string{"west": wantWest}, byBackend(nodes)); diff != "" {
			t.Errorf("mogan manageable list --backend west (-want +got):\n%s", diff)
		}
		// The shared node is in both: the CLI adopts it from west.
		r = runMogan(t, env, "adopt", "--backend", "west", "-f", "json", shared)
		got := adoptResults(t, r)[shared]
		if r.code != 0 || got.Outcome != "adopted" {
			t.Fatalf("mogan adopt --backend west: exit %d %+v\n%s", r.code, got, r.stderr)
		}
		server := deref(got.ServerUUID)
		if b := serverBackends(t, h.URL)[server]; b != "west" {
			t.Errorf("the CLI's server has backend %q; want west", b)
		}
		if inst := ironicState(t, west.URL, shared)["instance_uuid"]; inst != server {
			t.Errorf("west's instance_uuid %v; want %s", inst, server)
		}
		r = runMogan(t, env, "server", "list")
		if !strings.Contains(r.stdout, "BACKEND") || !hasLineWithAll(r.stdout, regexp.QuoteMeta(server), `\| west +\|`) {
			t.Errorf("mogan server list lacks the backend:\n%s", r.stdout)
		}
	})
}
