// Package shared is the mogan-manage plugin SDK.
//
// A hardware driver is a separate executable that the mogan-api host starts
// and talks to over gRPC. Plugin authors need three packages from here,
// and may use a fourth:
//
//   - shared/driver: the Go interfaces a driver implements, the node types
//     it returns and the typed errors it reports;
//   - shared/driverplugin: Serve, the whole of a plugin's main, and Launch,
//     the host-side loader;
//   - shared/drivertest: the conformance kit to run against a built plugin;
//   - shared/osclient (optional): keystoneauth-style options ([ironic],
//     [glance], …) parsed and turned into a gophercloud client, for drivers
//     that talk to OpenStack.
//
// The generated gRPC code in proto/driverv1 stays behind these packages.
package shared
