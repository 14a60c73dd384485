package api_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// Issue 15, finding 6: a bare "?dry_run" adopted for real, and so did
// "?DRY_RUN=true" and every other misspelling, silently ignored.

// adoptedHarness is a harness with nodeUUID adopted (its server's uuid
// and the adoption's request id returned) and otherNode adoptable.
func adoptedHarness(t *testing.T) (h *harness, server, requestID string) {
	t.Helper()
	h = newHarness(t, adoptableDriver(sampleNode(nodeUUID), sampleNode(otherNode)))
	r := h.postJSON(t, "/v1/manageable_servers", validBody(nodeUUID))
	if r.status != http.StatusCreated {
		t.Fatalf("adopt: %d %s", r.status, r.body)
	}
	return h, decodeObject(t, r.body)["uuid"].(string), r.header.Get("X-Openstack-Request-Id")
}

// storedServers lists the uuids of the servers in the store.
func storedServers(t *testing.T, h *harness) []string {
	t.Helper()
	recs, err := h.store.ListServers(context.WithoutCancel(t.Context()), store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, r := range recs {
		out = append(out, r.UUID)
	}
	return out
}

// TestUnknownOrEmptyQueryParameterIs400: on every route, a query parameter
// the route does not take, or one given without a value, is a 400 naming
// it, before anything is done (the node is not adopted, the server not
// released, the driver not called).
func TestUnknownOrEmptyQueryParameterIs400(t *testing.T) {
	h, server, requestID := adoptedHarness(t)
	srv := "/v1/servers/" + server
	tests := map[string]struct {
		method, path string
		wantText     string
	}{
		// The adoption: each of these adopted otherNode for real.
		"bare dry_run":     {http.MethodPost, "/v1/manageable_servers?dry_run", "Invalid value for dry_run: no value given"},
		"empty dry_run":    {http.MethodPost, "/v1/manageable_servers?dry_run=", "Invalid value for dry_run: no value given"},
		"DRY_RUN":          {http.MethodPost, "/v1/manageable_servers?DRY_RUN=true", `Unknown argument: "DRY_RUN" (did you mean "dry_run"?)`},
		"Dry_Run":          {http.MethodPost, "/v1/manageable_servers?Dry_Run=true", `Unknown argument: "Dry_Run" (did you mean "dry_run"?)`},
		"dry-run":          {http.MethodPost, "/v1/manageable_servers?dry-run=true", `Unknown argument: "dry-run" (did you mean "dry_run"?)`},
		"dryrun":           {http.MethodPost, "/v1/manageable_servers?dryrun=true", `Unknown argument: "dryrun" (did you mean "dry_run"?)`},
		"dry_run and more": {http.MethodPost, "/v1/manageable_servers?dry_run=true&force=1", `Unknown argument: "force". This route takes: dry_run.`},
		"adopt, name only": {http.MethodPost, "/v1/manageable_servers?dry_run=true&verbose", `Unknown argument: "verbose"`},
		// The manageable listing.
		"listing unknown":        {http.MethodGet, "/v1/manageable_servers?colour=red", `Unknown argument: "colour". This route takes: all, backend, limit, marker, resource_class.`},
		"listing bare all":       {http.MethodGet, "/v1/manageable_servers?all", "Invalid value for all: no value given"},
		"listing empty limit":    {http.MethodGet, "/v1/manageable_servers?limit=", "Invalid value for limit: no value given"},
		"listing empty marker":   {http.MethodGet, "/v1/manageable_servers?marker=", "Invalid value for marker: no value given"},
		"listing empty class":    {http.MethodGet, "/v1/manageable_servers?resource_class=", "Invalid value for resource_class: no value given"},
		"listing ALL":            {http.MethodGet, "/v1/manageable_servers?ALL=true", `Unknown argument: "ALL" (did you mean "all"?)`},
		"listing resource-class": {http.MethodGet, "/v1/manageable_servers?resource-class=gold", `(did you mean "resource_class"?)`},
		// Servers.
		"servers unknown":         {http.MethodGet, "/v1/servers?all_projects=1", `Unknown argument: "all_projects". This route takes: all_tenants, fields, limit, marker, sort_dir, sort_key.`},
		"servers bare tenants":    {http.MethodGet, "/v1/servers?all_tenants", "Invalid value for all_tenants: no value given"},
		"servers empty fields":    {http.MethodGet, "/v1/servers?fields=", "Invalid value for fields: no value given"},
		"servers All_Tenants":     {http.MethodGet, "/v1/servers?All_Tenants=1", `(did you mean "all_tenants"?)`},
		"servers upstream filter": {http.MethodGet, "/v1/servers?status=active", `Unknown argument: "status"`},
		"servers empty sort_dir":  {http.MethodGet, "/v1/servers?sort_dir=", "Invalid value for sort_dir: no value given"},
		"detail takes no fields":  {http.MethodGet, "/v1/servers/detail?fields=uuid", `Unknown argument: "fields". This route takes: all_tenants, limit, marker, sort_dir, sort_key.`},
		"detail empty limit":      {http.MethodGet, "/v1/servers/detail?limit=", "Invalid value for limit: no value given"},
		"show unknown":            {http.MethodGet, srv + "?details=1", `Unknown argument: "details". This route takes: fields.`},
		"show bare fields":        {http.MethodGet, srv + "?fields", "Invalid value for fields: no value given"},
		"unmanage unknown":        {http.MethodPost, srv + "/unmanage?force=true", `Unknown argument: "force". This route takes no query parameters.`},
		"actions unknown":         {http.MethodGet, srv + "/actions?limit=1", `Unknown argument: "limit". This route takes no query parameters.`},
		"action unknown":          {http.MethodGet, srv + "/actions/" + requestID + "?x=1", `Unknown argument: "x". This route takes no query parameters.`},
		// The public routes too.
		"root":    {http.MethodGet, "/?version=1", `Unknown argument: "version". This route takes no query parameters.`},
		"v1":      {http.MethodGet, "/v1?x", `Unknown argument: "x"`},
		"v1/":     {http.MethodGet, "/v1/?x", `Unknown argument: "x"`},
		"healthz": {http.MethodGet, "/healthz?verbose=1", `Unknown argument: "verbose"`},
		"readyz":  {http.MethodGet, "/readyz?verbose", `Unknown argument: "verbose"`},
		// Several unknown: the first in name order is named.
		"two unknown": {http.MethodGet, "/v1/servers?zz=1&aa=2", `Unknown argument: "aa"`},
		// A name is quoted as the client sent it, bounded.
		"long name":                  {http.MethodGet, "/v1/servers?" + strings.Repeat("n", 10<<10) + "=1", `Unknown argument: "nnnn`},
		"odd name":                   {http.MethodGet, "/v1/servers?%00=1", `Unknown argument: "\x00"`},
		"empty name":                 {http.MethodGet, "/v1/servers?=1", `Unknown argument: ""`},
		"lone ampersand and unknown": {http.MethodGet, "/v1/servers?&x=1", `Unknown argument: "x"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			calls := h.driver.Calls()
			var r response
			if tc.method == http.MethodPost {
				r = h.postJSON(t, tc.path, validBody(otherNode))
			} else {
				r = h.get(t, tc.path)
			}
			if r.status != http.StatusBadRequest {
				t.Fatalf("status = %d; want 400 (%.300s)", r.status, r.body)
			}
			msg := faultString(t, r)
			if !strings.Contains(msg, tc.wantText) {
				t.Errorf("faultstring %q does not contain %q", msg, tc.wantText)
			}
			if len(msg) > 400 {
				t.Errorf("faultstring is %d bytes: the client's name is echoed whole", len(msg))
			}
			if n := h.driver.Calls() - calls; n != 0 {
				t.Errorf("the driver was called %d times for a refused request", n)
			}
			if diff := cmp.Diff([]string{server}, storedServers(t, h)); diff != "" {
				t.Errorf("servers stored (-want +got):\n%s", diff)
			}
		})
	}
}

// TestQueryParametersAreCheckedAfterAuthentication: a caller who is not
// authenticated gets 401 whatever its query string, as before.
func TestQueryParametersAreCheckedAfterAuthentication(t *testing.T) {
	h := basicAuthHarness(t)
	for _, path := range []string{"/v1/servers?bogus=1", "/v1/manageable_servers?dry_run"} {
		r := h.as(t, "", "", http.MethodGet, path, "")
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d; want 401 (%s)", path, r.status, r.body)
		}
	}
}

// TestUpstreamQueryParametersStillWork: what python-moganclient and
// scripts written for upstream Mogan send is still served: all_tenants in
// its spellings, limit, marker, sort_key/sort_dir naming the order the
// servers are listed in, fields; the manageable listing's all,
// resource_class, limit and marker; dry_run's words.
func TestUpstreamQueryParametersStillWork(t *testing.T) {
	h, server, requestID := adoptedHarness(t)
	srv := "/v1/servers/" + server
	tests := map[string]struct {
		method, path string
		want         int
		wantText     string
	}{
		"moganclient all projects": {http.MethodGet, "/v1/servers/detail?all_tenants=True", http.StatusOK, ""},
		"moganclient list":         {http.MethodGet, "/v1/servers", http.StatusOK, ""},
		"all_tenants 1":            {http.MethodGet, "/v1/servers?all_tenants=1", http.StatusOK, ""},
		"limit and marker":         {http.MethodGet, "/v1/servers?limit=1&marker=" + server, http.StatusOK, ""},
		"upstream's default sort":  {http.MethodGet, "/v1/servers?sort_key=id&sort_dir=asc", http.StatusOK, ""},
		"by creation":              {http.MethodGet, "/v1/servers/detail?sort_key=created_at&sort_dir=asc", http.StatusOK, ""},
		"fields on the list":       {http.MethodGet, "/v1/servers?fields=uuid,name", http.StatusOK, ""},
		"fields on show":           {http.MethodGet, srv + "?fields=uuid", http.StatusOK, ""},
		"listing all":              {http.MethodGet, "/v1/manageable_servers?all=true", http.StatusOK, ""},
		"listing everything":       {http.MethodGet, "/v1/manageable_servers?all=false&resource_class=gold&limit=5&marker=" + otherNode, http.StatusOK, ""},
		"dry run":                  {http.MethodPost, "/v1/manageable_servers?dry_run=true", http.StatusOK, ""},
		"dry run off adopts":       {http.MethodPost, "/v1/manageable_servers?dry_run=false", http.StatusCreated, ""},
		"actions":                  {http.MethodGet, srv + "/actions", http.StatusOK, ""},
		"action":                   {http.MethodGet, srv + "/actions/" + requestID, http.StatusOK, ""},
		"an empty query string":    {http.MethodGet, "/v1/servers?", http.StatusOK, ""},
		"a stray ampersand":        {http.MethodGet, "/v1/servers?limit=1&", http.StatusOK, ""},
		"root":                     {http.MethodGet, "/", http.StatusOK, ""},
		"healthz":                  {http.MethodGet, "/healthz", http.StatusOK, ""},
		"head healthz":             {http.MethodHead, "/healthz", http.StatusOK, ""},
		// Another order is not served: refused rather than ignored.
		"sort_key another key": {http.MethodGet, "/v1/servers?sort_key=name", http.StatusBadRequest, `Invalid value for sort_key: "name". Servers are listed by creation only: id or created_at.`},
		"sort_dir desc":        {http.MethodGet, "/v1/servers?sort_dir=desc", http.StatusBadRequest, `Invalid value for sort_dir: "desc". Servers are listed oldest first only: asc.`},
		"sort_key twice":       {http.MethodGet, "/v1/servers?sort_key=id&sort_key=id", http.StatusBadRequest, "Invalid value for sort_key: given 2 times"},
	}
	for _, name := range slices.Sorted(maps.Keys(tests)) { // "dry run" before "dry run off adopts"
		tc := tests[name]
		t.Run(name, func(t *testing.T) {
			var r response
			if tc.method == http.MethodPost {
				r = h.postJSON(t, tc.path, validBody(otherNode))
			} else {
				r = h.do(t, tc.method, tc.path, "", nil)
			}
			if r.status != tc.want {
				t.Fatalf("status = %d; want %d (%.300s)", r.status, tc.want, r.body)
			}
			if tc.wantText != "" {
				if msg := faultString(t, r); !strings.Contains(msg, tc.wantText) {
					t.Errorf("faultstring %q does not contain %q", msg, tc.wantText)
				}
			}
		})
	}
}
