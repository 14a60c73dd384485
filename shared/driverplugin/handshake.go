package driverplugin

import "github.com/hashicorp/go-plugin"

// ProtocolVersion is the version of proto/driver.proto's package
// (mogan.driver.v1). go-plugin refuses a plugin built for another one.
const ProtocolVersion = 1

// PluginName is the single plugin a driver binary serves.
const PluginName = "driver"

// Handshake is shared by the host and every driver. The magic cookie is not
// a secret: it only keeps a driver run by hand from waiting for a host that
// is not there.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "MOGAN_DRIVER_PLUGIN",
	MagicCookieValue: "7f1c3d0e-mogan-manage-driver",
}
