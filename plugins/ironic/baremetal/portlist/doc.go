// Package portlist lists Ironic ports, a large page at a time and in any
// order Ironic can sort by, following pages correctly (gophercloud's ports
// pages look for "ports_links", which Ironic never sends).
package portlist
