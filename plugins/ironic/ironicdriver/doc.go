// Package ironicdriver is the mogan-manage driver for OpenStack Ironic: it
// finds nodes that run (active), belong to no instance, are not in
// maintenance and have a resource class, and adopts them by setting their
// instance_uuid with the interlock (protected, automated cleaning off) —
// never touching the machines. As a migration's target it enrolls a
// running machine (enroll.go): creates its node, manages and adopts it in
// Ironic and protects it, one transition a call, again without touching
// it. As a migration's source it exports a node as a machine (export.go,
// with its networks from Neutron when the credentials reach one:
// neutron.go), holds it in maintenance for the migration, and releases
// (deletes) it or lets it go (release.go) — the machine left running.
//
// Listing costs Ironic's own time: nodes (filtered server-side), ports and
// portgroups are fetched concurrently, a large page at a time and only the
// fields the listing needs, the latter two sorted by node so that each node
// is joined and sent as soon as its ports are known.
package ironicdriver
