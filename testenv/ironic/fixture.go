package ironic

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"
)

// Kind is the state a fixture node is enrolled in.
type Kind string

// The kinds of node the fixture makes; only KindAdoptable can be managed.
const (
	// KindAdoptable: active, unassociated, with a resource class, not in
	// maintenance — a machine deployed outside the cloud.
	KindAdoptable Kind = "adoptable"
	// KindAssociated: active and associated with an instance.
	KindAssociated Kind = "associated"
	// KindMaintenance: active, unassociated, in maintenance.
	KindMaintenance Kind = "maintenance"
	// KindAvailable: cleaned and waiting for a deployment, not running.
	KindAvailable Kind = "available"
	// KindNoResourceClass: active and unassociated, but resource_class unset.
	KindNoResourceClass Kind = "no-resource-class"
)

// Mix says how many nodes of each kind to enroll.
type Mix struct {
	Adoptable, Associated, Maintenance, Available, NoResourceClass int
	// ResourceClass of every node but the NoResourceClass ones; default
	// "baremetal".
	ResourceClass string
}

// Node is one enrolled node and what a driver should report about it.
type Node struct {
	UUID          string
	Name          string
	Kind          Kind
	ResourceClass string
	ImageSource   string
	// InstanceUUID is set for KindAssociated.
	InstanceUUID string
	Ports        []Port
	Portgroups   []Portgroup
}

// Port is an enrolled port. InternalVIF is recorded in
// internal_info.tenant_vif_port_id, ExtraVIF in extra.vif_port_id;
// NeutronPortID is what a driver should report (internal_info wins).
type Port struct {
	UUID, Address                        string
	InternalVIF, ExtraVIF, NeutronPortID string
}

// Portgroup is an enrolled portgroup, its VIFs recorded as for Port.
type Portgroup struct {
	UUID, Address, Mode                  string
	InternalVIF, ExtraVIF, NeutronPortID string
}

// Fixture enrolls nodes in one Ironic.
type Fixture struct {
	// URL of Ironic, without /v1.
	URL string
	// DB is Ironic's SQLite file. Ironic's API cannot write a port's
	// internal_info, and its VIF-attach API records tenant_vif_port_id only
	// with a network interface that talks to Neutron (the noop one records
	// nothing), so the fixture writes that field in the database, as the
	// conductor would. Without DB, VIFs go to extra.vif_port_id only.
	DB string
	// Concurrency is how many nodes are enrolled at once; default 8.
	Concurrency int
	// HTTP is the client to use; default one with a 30 s timeout.
	HTTP *http.Client
	// NewVIF makes the id of each VIF recorded on an adoptable node's
	// ports and portgroups, given the address of the port or portgroup
	// that records it; default a random uuid that names nothing. A cloud
	// fixture sets it to create a real Neutron port with that MAC first.
	// shadowed says another VIF of the same portgroup wins over this one
	// (internal_info over extra): Neutron refuses two ports with one MAC
	// on one network, so such a VIF belongs on another network. Other
	// nodes keep random VIFs.
	NewVIF func(ctx context.Context, mac string, shadowed bool) (string, error)
}

// Request sends one JSON request to Ironic at the newest microversion
// (path from /v1 on, e.g. "/v1/nodes/<uuid>") and decodes the answer into
// out when out is not nil; any status from 300 up is an error quoting
// Ironic. It retries what a burst of SQLite writes makes transient, as
// Enroll does; tests use it to change nodes behind a driver's back.
func (f *Fixture) Request(ctx context.Context, method, path string, body, out any) error {
	hc := f.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return call(ctx, hc, method, f.URL+path, body, out)
}

// Fixture returns a Fixture for this server.
func (s *Server) Fixture() *Fixture { return &Fixture{URL: s.URL, DB: s.DB} }

// Enroll creates the nodes of mix, each with ports and portgroups, and
// returns them: adoptable ones first, then associated, maintenance,
// available and no-resource-class.
func (f *Fixture) Enroll(ctx context.Context, mix Mix) ([]Node, error) {
	if mix.ResourceClass == "" {
		mix.ResourceClass = "baremetal"
	}
	hc := f.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	var db *sql.DB
	if f.DB != "" {
		var err error
		db, err = sql.Open("sqlite", "file:"+f.DB+"?_pragma=busy_timeout(20000)")
		if err != nil {
			return nil, err
		}
		defer func() { _ = db.Close() }()
		db.SetMaxOpenConns(1)
	}
	var kinds []Kind
	for _, k := range []struct {
		kind Kind
		n    int
	}{
		{KindAdoptable, mix.Adoptable}, {KindAssociated, mix.Associated},
		{KindMaintenance, mix.Maintenance}, {KindAvailable, mix.Available},
		{KindNoResourceClass, mix.NoResourceClass},
	} {
		for range k.n {
			kinds = append(kinds, k.kind)
		}
	}
	nodes := make([]Node, len(kinds))
	g, ctx := errgroup.WithContext(ctx)
	limit := f.Concurrency
	if limit <= 0 {
		limit = 8
	}
	g.SetLimit(limit)
	e := &enroller{url: f.URL, hc: hc, db: db, newVIF: f.NewVIF}
	for i, kind := range kinds {
		g.Go(func() error {
			n, err := e.node(ctx, kind, mix.ResourceClass)
			nodes[i] = n
			return err
		})
	}
	return nodes, g.Wait()
}

type enroller struct {
	url    string
	hc     *http.Client
	db     *sql.DB
	dbMu   sync.Mutex // one writer at a time besides Ironic itself
	newVIF func(ctx context.Context, mac string, shadowed bool) (string, error)
	// shape replaces the ports and portgroups of an adoptable node (the
	// bulk loader's template); nil is the fixture's usual mix.
	shape *shape
}

// vifs says which VIFs a port or portgroup records: internal_info, extra.
type vifs struct{ internal, extra bool }

// shape is the networking of one node: a VIF layout per port and per
// portgroup.
type shape struct{ ports, portgroups []vifs }

func (e *enroller) do(ctx context.Context, method, path string, body, out any) error {
	return call(ctx, e.hc, method, e.url+path, body, out)
}

func (e *enroller) node(ctx context.Context, kind Kind, rc string) (Node, error) {
	return e.nodeWithUUID(ctx, uuid.NewString(), kind, rc)
}

// nodeWithUUID enrolls one node of kind as node does, with uuid id.
func (e *enroller) nodeWithUUID(ctx context.Context, id string, kind Kind, rc string) (Node, error) {
	n := Node{
		UUID:          id,
		Name:          fmt.Sprintf("%s-%s", kind, id[:8]),
		Kind:          kind,
		ResourceClass: rc,
		ImageSource:   uuid.NewString(),
	}
	body := map[string]any{
		"uuid":          id,
		"name":          n.Name,
		"driver":        "fake-hardware",
		"instance_info": map[string]any{"image_source": n.ImageSource},
	}
	if kind == KindNoResourceClass {
		n.ResourceClass = ""
	} else {
		body["resource_class"] = rc
	}
	if err := e.do(ctx, "POST", "/v1/nodes", body, nil); err != nil {
		return n, err
	}
	if err := e.provision(ctx, id, "manage", "manageable"); err != nil {
		return n, err
	}
	if kind == KindAvailable {
		if err := e.provision(ctx, id, "provide", "available"); err != nil {
			return n, err
		}
	} else {
		if err := e.provision(ctx, id, "adopt", "active"); err != nil {
			return n, err
		}
		if err := e.do(ctx, "PUT", "/v1/nodes/"+id+"/states/power", map[string]string{"target": "power on"}, nil); err != nil {
			return n, err
		}
	}
	switch kind {
	case KindAssociated:
		n.InstanceUUID = uuid.NewString()
		patch := []map[string]string{{"op": "add", "path": "/instance_uuid", "value": n.InstanceUUID}}
		if err := e.do(ctx, "PATCH", "/v1/nodes/"+id, patch, nil); err != nil {
			return n, err
		}
	case KindMaintenance:
		if err := e.do(ctx, "PUT", "/v1/nodes/"+id+"/maintenance", map[string]string{"reason": "fixture"}, nil); err != nil {
			return n, err
		}
	}
	return n, e.networking(ctx, &n)
}

// networking gives an adoptable node a port with its VIF in internal_info,
// one with it in extra, one without, and a portgroup with both (different,
// so that a test sees which wins); other nodes get one port.
func (e *enroller) networking(ctx context.Context, n *Node) error {
	portVIFs := []vifs{{extra: true}}
	var pgVIFs []vifs
	switch {
	case n.Kind == KindAdoptable && e.shape != nil:
		portVIFs, pgVIFs = e.shape.ports, e.shape.portgroups
	case n.Kind == KindAdoptable:
		portVIFs = []vifs{{internal: true}, {extra: true}, {}}
		pgVIFs = []vifs{{internal: true, extra: true}}
	}
	// Without the database internal_info cannot be written, so such a VIF
	// is never made and the extra one is what a driver reports.
	newVIF := func(mac string, shadowed bool) (string, error) {
		if n.Kind != KindAdoptable || e.newVIF == nil {
			return uuid.NewString(), nil
		}
		return e.newVIF(ctx, mac, shadowed)
	}
	makeVIFs := func(v vifs, mac string) (internal, extra string, err error) {
		if v.internal && e.db != nil {
			if internal, err = newVIF(mac, false); err != nil {
				return "", "", err
			}
		}
		if v.extra {
			if extra, err = newVIF(mac, internal != ""); err != nil {
				return "", "", err
			}
		}
		return internal, extra, nil
	}
	pgs := make([]Portgroup, len(pgVIFs))
	for i, v := range pgVIFs {
		pg := &pgs[i]
		pg.UUID, pg.Address, pg.Mode = uuid.NewString(), randomMAC(), "active-backup"
		var err error
		if pg.InternalVIF, pg.ExtraVIF, err = makeVIFs(v, pg.Address); err != nil {
			return err
		}
		body := map[string]any{"uuid": pg.UUID, "node_uuid": n.UUID, "address": pg.Address, "mode": pg.Mode, "extra": extra(pg.ExtraVIF)}
		if err := e.do(ctx, "POST", "/v1/portgroups", body, nil); err != nil {
			return err
		}
		if err := e.setInternalVIF(ctx, "portgroups", pg.UUID, &pg.InternalVIF); err != nil {
			return err
		}
		pg.NeutronPortID = firstOf(pg.InternalVIF, pg.ExtraVIF)
	}
	ports := make([]Port, len(portVIFs))
	for i, v := range portVIFs {
		p := &ports[i]
		p.UUID, p.Address = uuid.NewString(), randomMAC()
		var err error
		if p.InternalVIF, p.ExtraVIF, err = makeVIFs(v, p.Address); err != nil {
			return err
		}
		body := map[string]any{"uuid": p.UUID, "node_uuid": n.UUID, "address": p.Address, "extra": extra(p.ExtraVIF)}
		if err := e.do(ctx, "POST", "/v1/ports", body, nil); err != nil {
			return err
		}
		if err := e.setInternalVIF(ctx, "ports", p.UUID, &p.InternalVIF); err != nil {
			return err
		}
		p.NeutronPortID = firstOf(p.InternalVIF, p.ExtraVIF)
	}
	n.Ports, n.Portgroups = ports, pgs
	return nil
}

// setInternalVIF records *vif as internal_info.tenant_vif_port_id of the
// port or portgroup; without a database it moves nowhere and is cleared.
func (e *enroller) setInternalVIF(ctx context.Context, table, id string, vif *string) error {
	if *vif == "" {
		return nil
	}
	if e.db == nil {
		*vif = ""
		return nil
	}
	info, err := json.Marshal(map[string]string{"tenant_vif_port_id": *vif})
	if err != nil {
		return err
	}
	e.dbMu.Lock()
	defer e.dbMu.Unlock()
	// table is one of two constants above, never input.
	_, err = e.db.ExecContext(ctx, "UPDATE "+table+" SET internal_info = ? WHERE uuid = ?", string(info), id)
	return err
}

// provision moves a node with a provision verb and waits for the state.
func (e *enroller) provision(ctx context.Context, id, verb, want string) error {
	if err := e.do(ctx, "PUT", "/v1/nodes/"+id+"/states/provision", map[string]string{"target": verb}, nil); err != nil {
		return err
	}
	for {
		var st struct {
			ProvisionState string  `json:"provision_state"`
			LastError      *string `json:"last_error"`
		}
		if err := e.do(ctx, "GET", "/v1/nodes/"+id+"?fields=provision_state,last_error", nil, &st); err != nil {
			return err
		}
		switch {
		case st.ProvisionState == want:
			return nil
		case st.LastError != nil && *st.LastError != "":
			return fmt.Errorf("node %s: %s to %s: %s (state %s)", id, verb, want, *st.LastError, st.ProvisionState)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func extra(vif string) map[string]string {
	if vif == "" {
		return map[string]string{}
	}
	return map[string]string{"vif_port_id": vif}
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// randomMAC is a locally administered unicast address; Ironic wants port
// addresses unique, and fixtures may be enrolled more than once.
func randomMAC() string {
	u := uuid.New()
	return fmt.Sprintf("52:54:%02x:%02x:%02x:%02x", u[0], u[1], u[2], u[3])
}
