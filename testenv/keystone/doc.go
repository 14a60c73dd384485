// Package keystone starts a real, standalone OpenStack Keystone for tests:
// Debian's python3-keystone on SQLite with fernet tokens, served on a free
// 127.0.0.1 port, with an admin, a non-admin member and a service user for
// the host. Start it once per test package (TestMain) and Stop it at the end.
package keystone
