//go:build unix

package driverplugin

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts the plugin in a process group of its own, so that
// killProcessGroup reaches what it started too: a wrapper script's child
// that keeps the plugin's stdout or stderr open would otherwise keep
// go-plugin waiting for their end forever, and Kill with it.
func ownProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// killProcessGroup sends SIGKILL to the process group the plugin pid
// leads. Only called while pid is not reaped yet (go-plugin waits for the
// plugin's pipes before it reaps it), so the group id cannot have been
// reused.
func killProcessGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL) // ESRCH: the group is gone already
	}
}
