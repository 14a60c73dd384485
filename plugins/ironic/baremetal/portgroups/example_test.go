package portgroups_test

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/noauth"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/mogan-manage/mogan-manage/plugins/ironic/baremetal/portgroups"
)

// Every portgroup, a large page at a time, sorted by node so that a caller
// can join them to a node listing as they come.
func ExampleList() {
	ctx := context.Background()
	client, err := noauth.NewBareMetalNoAuth(noauth.EndpointOpts{IronicEndpoint: "http://127.0.0.1:6385/v1/"})
	if err != nil {
		panic(err)
	}
	pager := portgroups.List(client, portgroups.ListOpts{
		Fields:  []string{"uuid", "address", "node_uuid", "mode", "extra", "internal_info"},
		SortKey: "node_id",
		Limit:   1000,
	})
	err = pager.EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
		pgs, err := portgroups.ExtractPortgroups(page)
		if err != nil {
			return false, err
		}
		for _, pg := range pgs {
			fmt.Println(pg.NodeUUID, pg.UUID, pg.Mode)
		}
		return true, nil
	})
	if err != nil {
		panic(err)
	}
}

// A bond of two of a node's ports: the portgroup first, then each port
// with its portgroup_uuid.
func ExampleCreate() {
	ctx := context.Background()
	client, err := noauth.NewBareMetalNoAuth(noauth.EndpointOpts{IronicEndpoint: "http://127.0.0.1:6385/v1/"})
	if err != nil {
		panic(err)
	}
	client.Microversion = "1.65"
	pg, err := portgroups.Create(ctx, client, portgroups.CreateOpts{
		NodeUUID: "7de2859d-ec6d-42c7-bb86-9d630ba5ac94",
		Address:  "52:54:00:00:00:02",
		Name:     "bond0",
		Mode:     "802.3ad",
		Extra:    map[string]any{"mogan_migration_id": "f978ef48-d4af-4dad-beec-e6174309bc71"},
	}).Extract()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pg.UUID)
}
