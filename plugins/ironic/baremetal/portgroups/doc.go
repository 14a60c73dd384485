// Package portgroups lists Ironic portgroups (GET /v1/portgroups), which
// gophercloud v2 has no package for.
//
// Example: every portgroup, a large page at a time, sorted by node so
// that a caller can join them to a node listing as they come:
//
//	pager := portgroups.List(client, portgroups.ListOpts{
//		Fields:  []string{"uuid", "address", "node_uuid", "mode", "extra", "internal_info"},
//		SortKey: "node_id",
//		Limit:   1000,
//	})
//	err := pager.EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
//		pgs, err := portgroups.ExtractPortgroups(page)
//		...
//	})
package portgroups
