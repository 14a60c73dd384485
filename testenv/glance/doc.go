// Package glance starts a real, standalone OpenStack Glance for tests:
// Debian's python3-glance without Keystone (every request is an admin),
// every policy rule open, the file store and SQLite in WAL mode, one
// process on a free 127.0.0.1 port in its own session. It talks to Glance
// over plain HTTP so that tests of the host's client check it against an
// independent view. Start it once per test package (TestMain) and Stop it
// at the end.
package glance
