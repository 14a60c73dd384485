package neutron

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
)

//go:embed standalone.py
var launcherScript []byte

//go:embed mogan_test_ml2.py
var mechanismDriver []byte

// MechanismDriver is the name the test-only ML2 mechanism driver is
// registered under, in [ml2] mechanism_drivers.
const MechanismDriver = "mogan_test_baremetal"

// PhysicalNetwork is the one physical network flat and VLAN networks use.
const PhysicalNetwork = "physnet1"

// confTemplate runs Neutron without Keystone, RabbitMQ (transport fake:/)
// or agents. %[1]s is the state directory, %[2]s the loopback port, %[3]d
// the largest page (-1: unlimited).
const confTemplate = `[DEFAULT]
auth_strategy = noauth
core_plugin = ml2
service_plugins =
api_paste_config = %[1]s/api-paste.ini
transport_url = fake:/
api_workers = 0
rpc_workers = 0
rpc_state_report_workers = 0
dhcp_agent_notification = false
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
state_path = %[1]s
bind_host = 127.0.0.1
bind_port = %[2]s
graceful_shutdown_timeout = 5
pagination_max_limit = %[3]d
use_stderr = true
debug = false

[database]
connection = sqlite:///%[1]s/neutron.db
# No fsync per commit: a test's Neutron needs no durability, and its one
# process writes every port binding (several a second under a test's load).
sqlite_synchronous = false

[ml2]
type_drivers = flat,vlan
tenant_network_types = vlan
mechanism_drivers = ` + MechanismDriver + `
extension_drivers = port_security

[ml2_type_flat]
flat_networks = *

[ml2_type_vlan]
network_vlan_ranges = ` + PhysicalNetwork + `:1000:1999

[quotas]
# Unlimited: a fleet's worth of VIFs (the chaos test's hundreds of nodes)
# passes Neutron's default 500 ports per project.
quota_port = -1

[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
policy_file = %[1]s/policy.json
`

// pasteINI is Neutron's API pipeline without Keystone: noauth gives every
// request an admin context on project fake_project_id.
const pasteINI = `[composite:neutron]
use = egg:Paste#urlmap
/: neutronversions
/v2.0: neutronapi_v2_0

[composite:neutronapi_v2_0]
use = call:neutron.auth:pipeline_factory
noauth = http_proxy_to_wsgi request_id catch_errors noauthfakeproject extensions neutronapiapp_v2_0

[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory

[filter:request_id]
paste.filter_factory = oslo_middleware:RequestId.factory

[filter:catch_errors]
paste.filter_factory = oslo_middleware:CatchErrors.factory

[filter:noauthfakeproject]
paste.filter_factory = neutron.auth:NoauthFakeProjectId.factory

[filter:extensions]
paste.filter_factory = neutron.api.extensions:plugin_aware_extension_middleware_factory

[app:neutronversions]
paste.app_factory = neutron.pecan_wsgi.app:versions_factory

[app:neutronapiapp_v2_0]
paste.app_factory = neutron.api.v2.router:APIRouter.factory
`

// entryPoints registers the mechanism driver with stevedore, which finds
// it through the dist-info directory on PYTHONPATH.
const entryPoints = `[neutron.ml2.mechanism_drivers]
` + MechanismDriver + ` = mogan_test_ml2:BaremetalMechanismDriver
`

const distMetadata = `Metadata-Version: 2.1
Name: mogan-test-ml2
Version: 0
`

// writeFiles writes the configuration, the launcher and the mechanism
// driver's package into dir. It returns the config path and the directory
// to put on PYTHONPATH.
func writeFiles(dir, port string, paginationMaxLimit int) (conf, pythonPath string, err error) {
	pythonPath = filepath.Join(dir, "pylib")
	distInfo := filepath.Join(pythonPath, "mogan_test_ml2-0.dist-info")
	if err := os.MkdirAll(distInfo, 0o700); err != nil {
		return "", "", err
	}
	conf = filepath.Join(dir, "neutron.conf")
	files := []struct {
		path string
		data []byte
	}{
		{conf, fmt.Appendf(nil, confTemplate, dir, port, paginationMaxLimit)},
		{filepath.Join(dir, "api-paste.ini"), []byte(pasteINI)},
		{filepath.Join(dir, "standalone.py"), launcherScript},
		{filepath.Join(pythonPath, "mogan_test_ml2.py"), mechanismDriver},
		{filepath.Join(distInfo, "METADATA"), []byte(distMetadata)},
		{filepath.Join(distInfo, "entry_points.txt"), []byte(entryPoints)},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return "", "", err
		}
	}
	return conf, pythonPath, nil
}
