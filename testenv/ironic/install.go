package ironic

import (
	"context"

	"github.com/mogan-manage/mogan-manage/testenv/internal/pydeb"
)

// Python is the interpreter that sees Debian's python3-ironic.
const Python = pydeb.Python

// CheckInstalled fails with the fix when Debian's python3-ironic is missing.
// It installs nothing: `make test-deps` does, once and as root.
func CheckInstalled(ctx context.Context) error {
	return pydeb.Require(ctx, "python3-ironic", "ironic")
}
