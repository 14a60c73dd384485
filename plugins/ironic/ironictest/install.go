package ironictest

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// Python is the interpreter that sees Debian's packages; the python3 first
// on PATH may be another one.
const Python = "/usr/bin/python3"

// Installed reports whether Debian's python3-ironic can be imported.
func Installed(ctx context.Context) bool {
	return exec.CommandContext(ctx, Python, "-c", "import ironic.cmd.singleprocess").Run() == nil
}

// EnsureInstalled installs python3-ironic with apt-get when it is missing.
// It needs root; progress goes to out.
func EnsureInstalled(ctx context.Context, out io.Writer) error {
	if Installed(ctx) {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("python3-ironic is not installed and installing it needs root: " +
			"run apt-get install -y --no-install-recommends python3-ironic")
	}
	steps := [][]string{
		{"apt-get", "update"},
		{"apt-get", "install", "-y", "--no-install-recommends", "python3-ironic"},
	}
	for _, argv := range steps {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%v: %w", argv, err)
		}
	}
	if !Installed(ctx) {
		return fmt.Errorf("python3-ironic installed but %s cannot import ironic", Python)
	}
	return nil
}
