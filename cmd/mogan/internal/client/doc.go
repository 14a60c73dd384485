// Package client talks to the Mogan API over HTTP for the operator CLI:
// it authenticates (Keystone token from clouds.yaml, http_basic or none),
// reads the listings, adopts and releases, and turns every refusal into an
// *APIError carrying the API's faultstring and request id. It knows
// nothing of the host's internals: only the wire format.
package client
