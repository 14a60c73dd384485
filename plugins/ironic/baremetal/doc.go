// Package baremetal holds the Ironic requests gophercloud v2 lacks, each in
// a sub-package shaped like a gophercloud resource package
// (requests.go, results.go, urls.go) and built on its ServiceClient and
// pagination.Pager.
package baremetal
