// Package neutron starts a real, standalone OpenStack Neutron for tests:
// Debian's python3-neutron with noauth, every policy rule open, ML2 with
// flat and VLAN networks on physnet1, SQLite whose schema is built from the
// models, and a test-only mechanism driver that binds baremetal ports as
// networking-baremetal would. It talks to Neutron over plain HTTP so that
// tests of the host's client check it against an independent view.
package neutron
