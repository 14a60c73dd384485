// Package portgroups lists and creates Ironic portgroups (GET and POST
// /v1/portgroups), which gophercloud v2 has no package for. See
// ExampleList.
package portgroups
