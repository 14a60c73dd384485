// Package nodefilter lists and gets Ironic nodes where gophercloud's nodes
// package falls short: its ListOpts drop "associated=false" and
// "maintenance=false" (plain bools, omitted when false), its pages never
// find the next one (they look for "nodes_links"), and its Get cannot ask
// for some fields only. ListOpts here also implements gophercloud's
// nodes.ListOptsBuilder.
package nodefilter
