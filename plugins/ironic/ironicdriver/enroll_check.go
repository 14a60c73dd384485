package ironicdriver

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/ports"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/nodefilter"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// CheckEnroll makes the checks of EnrollNode's first call, reading only:
// the request as EnrollNode checks it, then the node's uuid, its name and
// each of its MACs unused in Ironic (a conflict naming the one used, as the
// creation would answer). A migration's dry run asks it.
func (d *Driver) CheckEnroll(ctx context.Context, req driver.EnrollRequest) error {
	sc, err := d.serviceClient(ctx)
	if err != nil {
		return err
	}
	if req.MigrationID == "" {
		req.MigrationID = "dry-run" // a dry run has no migration yet
	}
	if err := d.checkEnrollRequest(req); err != nil {
		return err
	}
	if err := checkSecrets(req); err != nil {
		return err
	}
	m := req.Machine
	n, err := getEnrollNode(ctx, sc, req.NodeUUID)
	if err != nil {
		return err
	}
	if n != nil {
		return driver.Conflict("a node with uuid %s already exists in Ironic", req.NodeUUID)
	}
	if m.Name != "" {
		var named struct {
			UUID string `json:"uuid"`
		}
		err := nodefilter.Get(ctx, sc, m.Name, []string{"uuid"}).ExtractInto(&named)
		switch {
		case err == nil:
			return driver.Conflict("cannot enroll machine %q: a node with the name %s already exists in Ironic (%s)", m.Name, m.Name, named.UUID)
		case !gophercloud.ResponseCodeIs(err, 404):
			return classify(err, "ironic", sc.Endpoint)
		}
	}
	for _, p := range m.Ports {
		used, err := portWithMAC(ctx, sc, p.MAC)
		if err != nil {
			return classify(err, "ironic", sc.Endpoint)
		}
		if used != "" {
			return driver.Conflict("cannot enroll machine %q: a port with MAC address %s already exists in Ironic (node %s)", m.Name, p.MAC, used)
		}
	}
	return nil
}

// portWithMAC is the node of the port with the MAC, "" when none has it.
func portWithMAC(ctx context.Context, sc *gophercloud.ServiceClient, mac string) (string, error) {
	node := ""
	err := ports.List(sc, ports.ListOpts{Address: mac, Fields: []string{"uuid", "node_uuid"}}).EachPage(ctx,
		func(_ context.Context, page pagination.Page) (bool, error) {
			got, err := ports.ExtractPorts(page)
			if err != nil {
				return false, err
			}
			for _, p := range got {
				node = p.NodeUUID
			}
			return false, nil
		})
	if err != nil {
		return "", fmt.Errorf("looking MAC %s up: %w", mac, err)
	}
	return node, nil
}
