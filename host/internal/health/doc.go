// Package health decides the host's readiness (/readyz): named checks run
// concurrently under a deadline, critical ones (the store, the driver
// plugin, the driver's backend) make the host not ready when down, the
// others (Glance, Neutron) are reported without taking the host out of a
// load balancer. Until the start-up repair pass is done the host is
// "starting", whatever the checks say.
package health
