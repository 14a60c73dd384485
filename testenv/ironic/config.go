package ironic

import (
	"fmt"
	"os"
	"path/filepath"
)

// configTemplate runs Ironic without Keystone, RabbitMQ or hardware: noauth,
// fake-hardware with every fake/no-op interface, the conductor in the API
// process (rpc_transport = none). %[1]s is the loopback port, %[2]d the
// API's max_limit (its largest page), %[3]s the SQLite path, %[4]d the
// conductor's power-state sync interval (0 = off).
const configTemplate = `[DEFAULT]
auth_strategy = noauth
enabled_hardware_types = fake-hardware
enabled_boot_interfaces = fake
enabled_deploy_interfaces = fake
enabled_management_interfaces = fake
enabled_power_interfaces = fake
enabled_inspect_interfaces = fake,no-inspect
enabled_console_interfaces = fake,no-console
enabled_raid_interfaces = fake,no-raid
enabled_vendor_interfaces = fake,no-vendor
enabled_bios_interfaces = fake,no-bios
enabled_rescue_interfaces = fake,no-rescue
enabled_network_interfaces = noop
enabled_storage_interfaces = noop
default_network_interface = noop
rpc_transport = none
host = localhost
use_stderr = true
debug = false

[api]
host_ip = 127.0.0.1
port = %[1]s
max_limit = %[2]d

[database]
connection = sqlite:///%[3]s

[conductor]
automated_clean = false
sync_power_state_interval = %[4]d
`

// writeConfig writes dir/ironic.conf, for the database at db, and returns
// its path.
func writeConfig(dir, port string, maxLimit int, db string, noPowerSync bool) (string, error) {
	path := filepath.Join(dir, "ironic.conf")
	powerSync := 60 // Ironic's default
	if noPowerSync {
		powerSync = 0
	}
	text := fmt.Sprintf(configTemplate, port, maxLimit, db, powerSync)
	return path, os.WriteFile(path, []byte(text), 0o600)
}
