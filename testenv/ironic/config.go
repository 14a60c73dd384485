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
// conductor's power-state sync interval (0 = off), %[5]t whether the
// conductor cleans nodes automatically, %[6]s the hardware types and
// %[7]s, %[8]s, %[9]s, %[10]s the further boot, deploy, management and
// power interfaces they need, %[11]s more sections.
//
// Logging stays at INFO (debug = false): Ironic's conductor logs every
// provision-state change and every power action at INFO or above, which
// ProvisionStates and PowerChanges read.
const configTemplate = `[DEFAULT]
auth_strategy = noauth
enabled_hardware_types = %[6]s
enabled_boot_interfaces = fake%[7]s
enabled_deploy_interfaces = fake%[8]s
enabled_management_interfaces = fake%[9]s
enabled_power_interfaces = fake%[10]s
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
automated_clean = %[5]t
sync_power_state_interval = %[4]d
%[11]s`

// redfishSection makes a BMC that cannot be reached fail at once: one
// connection attempt, so no wait between attempts.
const redfishSection = `
[redfish]
connection_attempts = 1
`

// writeConfig writes dir/ironic.conf, for the database at db, and returns
// its path.
func writeConfig(dir, port, db string, opts Options) (string, error) {
	path := filepath.Join(dir, "ironic.conf")
	powerSync := 60 // Ironic's default
	if opts.NoPowerSync {
		powerSync = 0
	}
	hw, boot, deploy, mgmt, power, more := "fake-hardware", "", "", "", "", ""
	if opts.Redfish {
		// redfish takes no fake interface: virtual media boot, the agent's
		// deploy (neither is used before a deployment), its own
		// management and power.
		hw, boot, deploy, mgmt, power, more = "fake-hardware,redfish", ",redfish-virtual-media", ",direct", ",redfish", ",redfish", redfishSection
	}
	text := fmt.Sprintf(configTemplate, port, opts.MaxLimit, db, powerSync, opts.AutomatedClean, hw, boot, deploy, mgmt, power, more)
	return path, os.WriteFile(path, []byte(text), 0o600)
}
