// Package pluginmanager supervises the driver plugin of each of the
// host's backends: it finds the mogan-driver-<name> binary, starts and
// configures it, puts a deadline on every call, and restarts the plugin
// with backoff when it crashes. Nothing else in the host knows that
// drivers are processes.
package pluginmanager
