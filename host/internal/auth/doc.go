// Package auth establishes who is calling the API, by the configured
// [DEFAULT] auth_strategy: noauth (everyone is admin), http_basic (an
// htpasswd file of bcrypt entries, as Ironic's http_basic_auth_user_file)
// or keystone (X-Auth-Token validated against Keystone v3 with the host's
// own service credentials, results cached briefly, as keystonemiddleware's
// auth_token does). What a caller may then do is package policy's job.
package auth
