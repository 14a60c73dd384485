//go:build !linux

package driverplugin

import "os/exec"

// setParentDeathSignal has no equivalent here; Serve's parent watch ends
// the plugin instead.
func setParentDeathSignal(*exec.Cmd) {}
