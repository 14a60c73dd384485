// Package manage is the application layer of mogan-api: listing manageable
// nodes (enriched from Glance and Neutron), reading adopted servers,
// adopting a node (plan, then execute, every step recorded in the store's
// intent log before it acts), releasing one, the repair pass at start and
// the reconciler. It owns the domain Server type and is the only caller of
// the store, the driver plugin, the Glance and Neutron clients and the
// notifier; the HTTP API calls only this package.
package manage
