package driverplugin

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal asks Linux to kill the plugin when the host dies, so
// a SIGKILLed host leaves no orphan behind.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
