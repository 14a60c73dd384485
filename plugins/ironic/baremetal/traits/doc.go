// Package traits sets an Ironic node's traits (PUT
// /v1/nodes/{node}/traits, microversion 1.37), which gophercloud v2 has no
// request for.
package traits
