package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

// In normal mode the test driver keeps the contract it is used to break.
func TestConformance(t *testing.T) {
	path := drivertest.Build(t, "github.com/mogan-manage/mogan-manage/testenv/cmd/mogan-driver-test", "test")
	control := filepath.Join(t.TempDir(), "control.json")
	if err := os.WriteFile(control, []byte(`{"count": 500}`), 0o600); err != nil {
		t.Fatal(err)
	}
	drivertest.Run(t, drivertest.Config{Path: path, Options: map[string]string{"control_file": control}})
}
