// Package testenv is the home of every test harness; nothing under
// testenv/ ships. What `make build` produces (host/cmd/mogan-api,
// plugins/noop, plugins/*/cmd/mogan-driver-*, cmd/mogan) must not import
// anything here, which this prints nothing for (test files may import
// testenv; -deps without -test does not follow them) and
// TestNothingShippedImportsTestenv checks:
//
//	go list -deps ./host/... ./shared/... ./plugins/... ./cmd/... | grep /testenv
//
// Naming: a harness for a real service lives in testenv/<service> and its
// package is named like its directory (keystone, ironic, glance, neutron):
// the import path already says "test environment", Go tooling expects the
// package name to match the last path element, and call sites read as
// what they start (ironic.Start, keystone.Start). A test that also imports a
// shipped package of the same name renames the harness at the import
// (ironicenv "…/testenv/ironic"). A harness binary lives in
// testenv/cmd/<binary name> (package main): mogan-driver-test, the plugin
// that misbehaves on demand, openstack-standalone, the Ironic, Glance and
// Neutron that `make demo` and manual tests run, and bench-ironic, the
// fleet-scale benchmark of `make bench-ironic` (its library and the
// listing benchmarks are ironicbench). A harness that
// combines services is named for what it starts: cloud, a whole small
// cloud whose nodes' images and VIFs are real. Helpers that are not a
// service sit beside them: proctest (watching processes), holdproxy,
// clienttest (a TestMain that starts one real service per test package,
// a proxy that counts a client's requests). Code shared only by harnesses
// lives in testenv/internal: pydeb (is a Debian python3-* package
// installed?), service (runs a standalone Python service in its own
// process group that dies with its parent, waits until it answers, stops
// the whole group) and jsonapi (the JSON requests a harness makes).
//
// Harnesses never install anything: they check that the Debian packages
// they run are present and otherwise fail with "python3-X is not
// installed: run `make test-deps` (as root)". `make test-deps` installs
// them once, up front.
package testenv
