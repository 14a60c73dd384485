// Package manage is the adoption workflow: it claims a node in the store,
// has the driver re-validate and associate it, and records the server —
// undoing what it did, in reverse, when a later step fails — and its
// inverse, unmanage.
package manage
