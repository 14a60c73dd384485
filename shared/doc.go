// Package shared is the mogan-manage plugin SDK.
//
// A hardware driver is a separate executable that the mogan-api host starts
// and talks to over gRPC. Plugin authors need three packages from here:
//
//   - shared/driver: the Go interfaces a driver implements, the node types
//     it returns and the typed errors it reports;
//   - shared/driverplugin: Serve, the whole of a plugin's main, and Launch,
//     the host-side loader;
//   - shared/drivertest: the conformance kit to run against a built plugin.
//
// The generated gRPC code in proto/driverv1 stays behind these packages.
package shared
