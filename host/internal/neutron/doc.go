// Package neutron is the host's Neutron client: it looks ports up in
// batches and sets their binding (binding:host_id, binding:vnic_type) for
// the adoption workflow, from the [neutron] section's keystoneauth-style
// options.
package neutron
