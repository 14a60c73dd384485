// Package driverplugin carries a driver.Driver across the process boundary:
// Serve runs a driver as a go-plugin gRPC plugin (a plugin's whole main),
// Launch starts a plugin binary from the host and hands back a driver.Full
// that speaks to it. Errors keep their identity on the way through
// (status.go holds the one translation table).
package driverplugin
