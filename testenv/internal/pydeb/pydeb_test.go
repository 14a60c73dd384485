package pydeb

import (
	"strings"
	"testing"
)

func TestRequire(t *testing.T) {
	for name, tc := range map[string]struct {
		pkg, module string
		wantErr     []string // substrings of the error; nil = no error
	}{
		"stdlib module is there": {pkg: "python3-minimal", module: "json"},
		"missing module names the package and the fix": {
			pkg: "python3-nonexistent", module: "mogan_no_such_module",
			wantErr: []string{"python3-nonexistent is not installed: run `make test-deps` (as root)", "ModuleNotFoundError", "mogan_no_such_module"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := Require(t.Context(), tc.pkg, tc.module)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Require: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Require: no error for a missing module")
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}
