package ironicdriver

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

var _ driver.BackendChecker = (*Driver)(nil)

// CheckBackend reads one node's uuid: the smallest request that needs
// Ironic, its database and the driver's credentials (Keystone's too).
func (d *Driver) CheckBackend(ctx context.Context) (string, error) {
	sc, err := d.serviceClient(ctx)
	if err != nil {
		return "Ironic", err
	}
	where := describe("Ironic", sc.Endpoint)
	err = nodes.List(sc, nodes.ListOpts{Limit: 1, Fields: []string{"uuid"}}).EachPage(ctx,
		func(context.Context, pagination.Page) (bool, error) { return false, nil })
	if err != nil {
		return where, classify(err, "ironic", sc.Endpoint)
	}
	return where, nil
}
