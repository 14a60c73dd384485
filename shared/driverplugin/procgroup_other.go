//go:build !unix

package driverplugin

import "os/exec"

// ownProcessGroup has no equivalent here.
func ownProcessGroup(*exec.Cmd) {}

// killProcessGroup has no equivalent here: Kill kills the plugin process
// alone.
func killProcessGroup(int) {}
