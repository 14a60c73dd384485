// Package ironic runs a real, standalone OpenStack Ironic for tests,
// CI and demos, and enrolls fixture nodes in it.
//
// Ironic comes from Debian's python3-ironic (installed by `make test-deps`;
// Start only checks for it), runs with noauth, the fake-hardware driver and
// SQLite on a free loopback port, API and conductor in one process in its
// own session, and is stopped by process group. Nothing here imports the driver: the fixture talks to
// Ironic over plain HTTP so that tests of the driver check it against an
// independent view of the data.
package ironic
