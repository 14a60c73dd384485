package ironicdriver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/ports"
	"golang.org/x/sync/errgroup"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/portgroups"
	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/traits"
	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/requestid"
)

// checkEnrollRequest refuses, before anything is created, a request the
// driver cannot carry out: no migration, a node uuid that is no uuid, a
// machine without a hardware type, a
// port without a MAC or twice the same, a portgroup member that is not a
// port, an owner or lessee the configured microversion cannot set.
func (d *Driver) checkEnrollRequest(req driver.EnrollRequest) error {
	m := req.Machine
	if req.MigrationID == "" {
		return driver.InvalidArgument("enrolling node %s: no migration id", req.NodeUUID)
	}
	if _, err := uuid.Parse(req.NodeUUID); err != nil {
		return driver.InvalidArgument("enrolling machine %q: node uuid %q is not a uuid", m.Name, req.NodeUUID)
	}
	if m.Driver == "" {
		return driver.InvalidArgument("machine %q: driver (the Ironic hardware type) is required", m.Name)
	}
	macs := map[string]bool{}
	for i, p := range m.Ports {
		mac := strings.ToLower(p.MAC)
		switch {
		case mac == "":
			return driver.InvalidArgument("machine %q: port %d has no MAC", m.Name, i)
		case macs[mac]:
			return driver.InvalidArgument("machine %q: MAC %s is given to two ports", m.Name, p.MAC)
		}
		macs[mac] = true
	}
	for i, pg := range m.Portgroups {
		if pg.MAC == "" {
			return driver.InvalidArgument("machine %q: portgroup %d has no MAC", m.Name, i)
		}
		for _, member := range pg.Ports {
			if !macs[strings.ToLower(member)] {
				return driver.InvalidArgument("machine %q: portgroup %s names %s, which is none of its ports", m.Name, pg.MAC, member)
			}
		}
	}
	d.mu.Lock()
	version, _ := parseMicroversion(d.cfg.APIVersion)
	d.mu.Unlock()
	for _, f := range []struct {
		name, value string
		needs       microversion
	}{{"owner", m.Owner, ownerVersion}, {"lessee", m.Lessee, lesseeVersion}} {
		if f.value != "" && version.less(f.needs) {
			return driver.InvalidArgument("machine %q: setting its %s needs Ironic API %s; [ironic] api_version is %s", m.Name, f.name, f.needs, version)
		}
	}
	return nil
}

// checkSecrets refuses to create a node without a value for each of its
// secret fields. Only the creation needs them: a call that finds the node
// created (a resumed migration, whose secrets were in a killed host's
// memory) carries on without them, as DESIGN's repair rule says.
func checkSecrets(req driver.EnrollRequest) error {
	for _, field := range req.Machine.Secrets {
		if _, ok := req.Secrets[field]; !ok {
			return driver.InvalidArgument("machine %q: no value was supplied for the secret driver_info field %q", req.Machine.Name, field)
		}
	}
	return nil
}

// createOpts is a node creation body: gophercloud's CreateOpts has no
// instance_info nor lessee.
type createOpts map[string]any

func (o createOpts) ToNodeCreateMap() (map[string]any, error) { return o, nil }

// createNode creates the node with the uuid the host chose, automated
// cleaning off and the migration's marker, then its traits, portgroups
// and ports: the first transition, the node in enroll.
func (d *Driver) createNode(ctx context.Context, sc *gophercloud.ServiceClient, req driver.EnrollRequest) (driver.EnrollState, error) {
	m := req.Machine
	driverInfo := make(map[string]any, len(m.DriverInfo)+len(req.Secrets))
	for k, v := range m.DriverInfo {
		driverInfo[k] = v
	}
	for k, v := range req.Secrets {
		driverInfo[k] = v
	}
	body := createOpts{
		"uuid":            req.NodeUUID,
		"driver":          m.Driver,
		"driver_info":     driverInfo,
		"automated_clean": false,
		"extra":           map[string]any{migrationKey: req.MigrationID},
	}
	for field, value := range map[string]string{"name": m.Name, "resource_class": m.ResourceClass, "deploy_interface": m.DeployInterface} {
		if value != "" {
			body[field] = value
		}
	}
	if m.Properties != nil {
		body["properties"] = m.Properties
	}
	if m.Image != "" {
		body["instance_info"] = map[string]any{"image_source": m.Image}
	}
	log := requestid.Logger(ctx, d.log).With("node", req.NodeUUID, "migration", req.MigrationID)
	n := &enrollNode{UUID: req.NodeUUID, ProvisionState: stateEnroll}
	fresh := true
	err := classify(nodes.Create(ctx, sc, body).Err, "ironic", sc.Endpoint)
	if isConflict(err) {
		// Created meanwhile by an earlier call of this migration (its
		// answer lost), or a name or uuid someone else has.
		var gerr error
		n, gerr = getEnrollNode(ctx, sc, req.NodeUUID)
		if gerr != nil || n == nil || n.Extra.MigrationID != req.MigrationID {
			return driver.EnrollState{}, driver.Conflict("cannot enroll machine %q as node %s: %s", m.Name, req.NodeUUID, err)
		}
		fresh = false
	} else if err != nil {
		return driver.EnrollState{}, fmt.Errorf("enrolling machine %q as node %s: %w", m.Name, req.NodeUUID, err)
	} else {
		log.Info("enroll: node created", "ports", len(m.Ports), "portgroups", len(m.Portgroups))
	}
	if _, err := d.completeNode(ctx, sc, req, n, fresh); err != nil {
		return driver.EnrollState{}, err
	}
	return enrollStateOf(n), nil
}

// setOwnership gives the node its owner and lessee, when the machine has
// them and the node differs: a PATCH, as Ironic refuses a creation with
// an owner other than the creator's project to a project-scoped token.
func (d *Driver) setOwnership(ctx context.Context, sc *gophercloud.ServiceClient, req driver.EnrollRequest, n *enrollNode) (bool, error) {
	var ops nodes.UpdateOpts
	for _, f := range []struct{ path, want, have string }{
		{"/owner", req.Machine.Owner, n.Owner}, {"/lessee", req.Machine.Lessee, n.Lessee},
	} {
		if f.want != "" && f.want != f.have {
			ops = append(ops, nodes.UpdateOperation{Op: nodes.AddOp, Path: f.path, Value: f.want})
		}
	}
	if len(ops) == 0 {
		return false, nil
	}
	var after enrollNode
	if err := d.patch(ctx, sc, req.NodeUUID, ops, &after); err != nil {
		return false, fmt.Errorf("machine %q: setting its owner and lessee: %w", req.Machine.Name, err)
	}
	return true, nil
}

// completeNode creates what the machine has and node n lacks: its traits,
// its portgroups, its ports (each marked, each port with its VIF). A
// fresh node has none, so they are not looked for. It reports whether it
// created anything: after an interrupted creation, the call that finishes
// it does nothing more.
func (d *Driver) completeNode(ctx context.Context, sc *gophercloud.ServiceClient, req driver.EnrollRequest, n *enrollNode, fresh bool) (bool, error) {
	m := req.Machine
	haveTraits := slices.Clone(n.Traits)
	wantTraits := slices.Clone(m.Traits)
	slices.Sort(haveTraits)
	slices.Sort(wantTraits)
	created, err := d.setOwnership(ctx, sc, req, n)
	if err != nil {
		return false, err
	}
	if len(wantTraits) > 0 && !slices.Equal(slices.Compact(haveTraits), slices.Compact(wantTraits)) {
		if err := classify(traits.Set(ctx, sc, req.NodeUUID, m.Traits).Err, "ironic", sc.Endpoint); err != nil {
			return false, fmt.Errorf("machine %q: setting its traits: %w", m.Name, err)
		}
		created = true
	}
	havePorts, havePortgroups, err := existingChildren(ctx, sc, req.NodeUUID, !fresh && len(m.Ports)+len(m.Portgroups) > 0)
	if err != nil {
		return false, err
	}
	marker := map[string]any{migrationKey: req.MigrationID}
	for _, pg := range m.Portgroups {
		mac := strings.ToLower(pg.MAC)
		if havePortgroups[mac] != "" {
			continue
		}
		made, err := portgroups.Create(ctx, sc, portgroups.CreateOpts{NodeUUID: req.NodeUUID, Address: pg.MAC, Name: pg.Name,
			Mode: pg.Mode, Extra: marker}).Extract()
		if err != nil {
			return false, childError(m.Name, "portgroup", pg.MAC, classify(err, "ironic", sc.Endpoint))
		}
		havePortgroups[mac] = made.UUID
		created = true
	}
	member := map[string]string{} // port MAC → its portgroup's MAC
	for _, pg := range m.Portgroups {
		for _, p := range pg.Ports {
			member[strings.ToLower(p)] = strings.ToLower(pg.MAC)
		}
	}
	for _, p := range m.Ports {
		mac := strings.ToLower(p.MAC)
		if havePorts[mac] {
			continue
		}
		extra := map[string]any{migrationKey: req.MigrationID}
		if p.NeutronPortID != "" {
			extra["vif_port_id"] = p.NeutronPortID
		}
		opts := ports.CreateOpts{NodeUUID: req.NodeUUID, Address: p.MAC, PXEEnabled: p.PXEEnabled,
			PhysicalNetwork: p.PhysicalNetwork, Extra: extra}
		if pg := member[mac]; pg != "" {
			opts.PortGroupUUID = havePortgroups[pg]
		}
		if err := ports.Create(ctx, sc, opts).Err; err != nil {
			return false, childError(m.Name, "port", p.MAC, classify(err, "ironic", sc.Endpoint))
		}
		created = true
	}
	return created, nil
}

// existingChildren lists the node's ports (their MACs) and portgroups
// (MAC → uuid), both at once, when look says to.
func existingChildren(ctx context.Context, sc *gophercloud.ServiceClient, nodeUUID string, look bool) (map[string]bool, map[string]string, error) {
	havePorts, havePortgroups := map[string]bool{}, map[string]string{}
	if !look {
		return havePorts, havePortgroups, nil
	}
	var ps *ironicPage
	var pgs *ironicPage
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		ps, err = nodeItems(gctx, sc, "ports", nodeUUID, []string{"uuid", "address"})
		return err
	})
	g.Go(func() (err error) {
		pgs, err = nodeItems(gctx, sc, "portgroups", nodeUUID, []string{"uuid", "address"})
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, nil, classify(err, "ironic", sc.Endpoint)
	}
	for _, p := range ps.Ports {
		havePorts[strings.ToLower(p.Address)] = true
	}
	for _, pg := range pgs.Portgroups {
		havePortgroups[strings.ToLower(pg.Address)] = pg.UUID
	}
	return havePorts, havePortgroups, nil
}

// childError names the machine and the port or portgroup that failed; a
// MAC (or portgroup name) someone else has is a conflict naming it.
func childError(machine, what, mac string, err error) error {
	if errors.Is(err, driver.ErrConflict) {
		return driver.Conflict("cannot enroll machine %q: %s %s: %s", machine, what, mac, err)
	}
	return fmt.Errorf("enrolling machine %q: %s %s: %w", machine, what, mac, err)
}
