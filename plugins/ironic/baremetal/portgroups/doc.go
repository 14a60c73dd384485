// Package portgroups lists Ironic portgroups (GET /v1/portgroups), which
// gophercloud v2 has no package for. See ExampleList.
package portgroups
