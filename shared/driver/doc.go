// Package driver defines what a mogan-manage hardware driver is: the Go
// interfaces it implements, the node types it returns and the typed errors
// that travel across the plugin boundary unchanged.
package driver
