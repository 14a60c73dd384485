// Package drivertest is the conformance kit for driver plugin authors: Run
// starts a built mogan-driver-* binary through the host's own loader
// (driverplugin.Launch) and checks, as subtests, that it keeps the
// host-driver contract: handshake, GetInfo, Configure, one answer per
// capability, streaming that ends cleanly and honours limit, marker and
// cancellation, and typed errors that survive the trip. Build compiles a
// plugin for it; FuncDriver is an in-process driver of function fields for
// unit tests of code that calls a driver.
package drivertest
