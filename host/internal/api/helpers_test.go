package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/api"
	"github.com/mogan-manage/mogan-manage/host/internal/auth"
	"github.com/mogan-manage/mogan-manage/host/internal/manage"
	"github.com/mogan-manage/mogan-manage/host/internal/policy"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

const (
	nodeUUID  = "aacdbd78-d670-409e-95aa-ecfcfb94fee2"
	otherNode = "7de2859d-ec6d-42c7-bb86-9d630ba5ac94"
)

// sampleNode is the node of upstream's manageable-servers-list-resp.json.
func sampleNode(uuid string) driver.Node {
	return driver.Node{
		UUID:           uuid,
		Name:           "test_node",
		ResourceClass:  "gold",
		PowerState:     "power on",
		ProvisionState: "active",
		Ports: []driver.Port{{
			UUID: "1ec01153-685a-49b5-a6d3-45a4e7dddf53", Address: "a4:dc:be:0e:82:a5",
			NeutronPortID: "a9b94592-1d8e-46bb-836b-c7ba935b0136",
		}},
		Portgroups: []driver.Portgroup{{
			UUID: "1ec01153-685a-49b5-a6d3-45a4e7dddf54", Address: "a4:dc:be:0e:82:a6", Mode: "active-backup",
			NeutronPortID: "a9b94592-1d8e-46bb-836b-c7ba935b0137",
		}},
		ImageSource: "03239419-e588-42b6-a70f-94f23ed0c9e2",
		Manageable:  true,
	}
}

// adoptableDriver knows nodes by UUID: every node is adoptable once.
func adoptableDriver(nodes ...driver.Node) *drivertest.FuncDriver {
	byUUID := map[string]driver.Node{}
	for _, n := range nodes {
		byUUID[n.UUID] = n
	}
	return &drivertest.FuncDriver{
		ListFunc: func(_ context.Context, _ driver.ListOptions, send func(driver.Node) error) error {
			for _, n := range nodes {
				if err := send(n); err != nil {
					return err
				}
			}
			return nil
		},
		GetFunc: func(_ context.Context, id string) (driver.Node, error) {
			n, ok := byUUID[id]
			if !ok {
				return driver.Node{}, driver.NotFound("node %s could not be found", id)
			}
			return n, nil
		},
		ManageFunc: func(_ context.Context, req driver.ManageRequest) (driver.Node, error) {
			n := byUUID[req.NodeUUID]
			n.InstanceUUID = req.ServerUUID
			n.Ports, n.Portgroups = nil, nil // Manage reads nothing again
			return n, nil
		},
		UnmanageFunc: func(context.Context, driver.ManageRequest) error { return nil },
	}
}

type harness struct {
	url     string
	handler http.Handler
	store   store.Store
	driver  *drivertest.FuncDriver
	dbPath  string // the SQLite file behind store
}

// newHarness serves the API over a real SQLite store, noauth and the
// default policy, with drv as the driver.
func newHarness(t testing.TB, drv *drivertest.FuncDriver) *harness {
	t.Helper()
	authn, err := auth.New(t.Context(), auth.Config{Strategy: "noauth"}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	return newHarnessWithAuth(t, drv, authn)
}

// newHarnessWithAuth is newHarness with another authenticator; configure
// changes the API's configuration (e.g. the quota) before it is built.
func newHarnessWithAuth(t testing.TB, drv *drivertest.FuncDriver, authn auth.Authenticator, configure ...func(*api.Config)) *harness {
	t.Helper()
	return newHarnessFrom(t, harnessConfig{driver: drv, auth: authn, api: configure})
}

// harnessConfig is what newHarnessFrom builds: the driver of backend
// "test" (or the backends), the authenticator, the logger of the API and
// the application layer, and changes to either's configuration.
type harnessConfig struct {
	driver   *drivertest.FuncDriver
	backends []manage.Backend // nil: "test", driver
	auth     auth.Authenticator
	log      hclog.Logger // nil: none
	manage   func(*manage.Config)
	api      []func(*api.Config)
}

// newHarnessFrom serves the API over a real SQLite store, the default
// policy and the application layer's background migrations (stopped, and
// waited for, when the test ends).
func newHarnessFrom(t testing.TB, hc harnessConfig) *harness {
	t.Helper()
	ctx := t.Context()
	log := hc.log
	if log == nil {
		log = hclog.NewNullLogger()
	}
	dbPath := filepath.Join(t.TempDir(), "mogan.sqlite")
	st, err := store.OpenWithOptions(ctx, "sqlite://"+dbPath, log,
		store.OpenOptions{CreateIfMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	enforcer, err := policy.New("")
	if err != nil {
		t.Fatal(err)
	}
	backends := hc.backends
	if backends == nil {
		backends = []manage.Backend{{Name: "test", Driver: hc.driver}}
	}
	mcfg := manage.Config{Store: st, Backends: backends, Logger: log, Owner: "test"}
	if hc.manage != nil {
		hc.manage(&mcfg)
	}
	svc := manage.New(mcfg)
	t.Cleanup(svc.StartMigrations(ctx)) // t.Context ends before the cleanups run
	cfg := api.Config{
		Logger: log, Auth: hc.auth, Policy: enforcer,
		Manage:        svc,
		MetadataItems: 128, // [quota] metadata_items' default
	}
	for _, c := range hc.api {
		c(&cfg)
	}
	handler, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &harness{url: srv.URL, handler: handler, store: st, driver: hc.driver, dbPath: dbPath}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (h *harness) do(t *testing.T, method, path, contentType string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, h.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func (h *harness) get(t *testing.T, path string) response {
	t.Helper()
	return h.do(t, http.MethodGet, path, "", nil)
}

func (h *harness) postJSON(t *testing.T, path, body string) response {
	t.Helper()
	return h.do(t, http.MethodPost, path, "application/json", strings.NewReader(body))
}

// faultString checks r is in Mogan's error format and returns its
// faultstring.
func faultString(t *testing.T, r response) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q; want application/json", ct)
	}
	if id := r.header.Get("X-Openstack-Request-Id"); !strings.HasPrefix(id, "req-") {
		t.Errorf("X-Openstack-Request-Id = %q; want req-<uuid>", id)
	}
	var outer struct {
		ErrorMessage *string `json:"error_message"`
	}
	if err := json.Unmarshal(r.body, &outer); err != nil || outer.ErrorMessage == nil {
		t.Fatalf("error body %q is not {\"error_message\": ...}: %v", r.body, err)
	}
	var inner struct {
		FaultCode   string  `json:"faultcode"`
		FaultString string  `json:"faultstring"`
		DebugInfo   *string `json:"debuginfo"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(*outer.ErrorMessage)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&inner); err != nil {
		t.Fatalf("error_message %q is not a WSME fault: %v", *outer.ErrorMessage, err)
	}
	wantCode := "Client"
	if r.status >= 500 {
		wantCode = "Server"
	}
	if inner.FaultCode != wantCode {
		t.Errorf("faultcode = %q; want %q for status %d", inner.FaultCode, wantCode, r.status)
	}
	if inner.DebugInfo != nil {
		t.Errorf("debuginfo = %q; want null", *inner.DebugInfo)
	}
	return inner.FaultString
}
