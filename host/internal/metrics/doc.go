// Package metrics holds the host's Prometheus metrics in one registry that
// the host makes and passes around (no global registry): HTTP requests by
// route template and status, driver calls by RPC and outcome, plugin
// restarts, upstream calls by service and status, adoptions and repairs by
// outcome, and notifications dropped. A nil *Metrics records nothing, so
// packages and tests that do not care pass none.
package metrics
