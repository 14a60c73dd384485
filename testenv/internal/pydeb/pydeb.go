// Package pydeb checks that the Debian python3-* packages a harness runs are
// installed. It never installs them: `make test-deps` does that once, up
// front and as root, so test packages running in parallel never race for
// apt's lock and a test never needs root.
package pydeb

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
)

// Python is the interpreter that sees Debian's packages; the python3 first
// on PATH (a virtualenv, pyenv) may be another one without them.
const Python = "/usr/bin/python3"

// Require fails, naming the package and the fix, when Python cannot import
// module, which Debian's package pkg provides.
func Require(ctx context.Context, pkg, module string) error {
	out, err := exec.CommandContext(ctx, Python, "-c", "import "+module).CombinedOutput()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("check that %s is installed: %w", pkg, ctx.Err())
	}
	return fmt.Errorf("%s is not installed: run `make test-deps` (as root) (%s cannot import %s: %s)",
		pkg, Python, module, lastLine(out, err))
}

// lastLine is the exception line of a Python traceback, or err when Python
// printed nothing (e.g. it is missing itself).
func lastLine(out []byte, err error) string {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	if last := bytes.TrimSpace(lines[len(lines)-1]); len(last) > 0 {
		return string(last)
	}
	return err.Error()
}
