package glance

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
)

//go:embed standalone.py
var launcherScript []byte

// confTemplate runs Glance without Keystone, in one process (workers = 0),
// with the file store. %[1]s is the state directory, %[2]s the loopback
// port, %[3]d the default and largest page.
const confTemplate = `[DEFAULT]
bind_host = 127.0.0.1
bind_port = %[2]s
workers = 0
use_stderr = true
debug = false
enforce_secure_rbac = false
limit_param_default = %[3]d
api_limit_max = %[3]d

[database]
connection = sqlite:///%[1]s/glance.db

[glance_store]
stores = file
default_store = file
filesystem_store_datadir = %[1]s/images

[paste_deploy]
config_file = %[1]s/glance-api-paste.ini
flavor =

[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
policy_file = %[1]s/policy.json
`

// pasteINI is Glance's API pipeline without Keystone: the unauthenticated
// context makes every request an admin's.
const pasteINI = `[pipeline:glance-api]
pipeline = versionnegotiation unauthenticated-context rootapp

[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app

[app:apiversions]
paste.app_factory = glance.api.versions:create_resource

[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory

[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory

[filter:unauthenticated-context]
paste.filter_factory = glance.api.middleware.context:UnauthenticatedContextMiddleware.factory
`

// writeFiles writes the configuration, paste ini and launcher into dir and
// returns the config path.
func writeFiles(dir, port string, pageLimit int) (string, error) {
	if err := os.MkdirAll(filepath.Join(dir, "images"), 0o700); err != nil {
		return "", err
	}
	conf := filepath.Join(dir, "glance-api.conf")
	files := []struct {
		path string
		data []byte
	}{
		{conf, fmt.Appendf(nil, confTemplate, dir, port, pageLimit)},
		{filepath.Join(dir, "glance-api-paste.ini"), []byte(pasteINI)},
		{filepath.Join(dir, "standalone.py"), launcherScript},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return "", err
		}
	}
	return conf, nil
}
