// Package glance is the host's Glance client: it answers which image ids
// exist, looking them up in batches, from the [glance] section's
// keystoneauth-style options (shared/osclient).
package glance
