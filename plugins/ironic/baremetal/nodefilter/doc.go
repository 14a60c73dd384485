// Package nodefilter builds node listing and get queries that gophercloud's
// nodes.ListOpts cannot express: its Associated and Maintenance are plain
// bools that are dropped when false, so "associated=false" and
// "maintenance=false" never reach Ironic. ListOpts here implements
// gophercloud's nodes.ListOptsBuilder, so it plugs into nodes.List and the
// usual nodes.NodePage / nodes.ExtractNodesInto.
package nodefilter
