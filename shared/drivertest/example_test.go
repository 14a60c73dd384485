package drivertest_test

import (
	"testing"

	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

// A plugin author's conformance test: build the plugin, then run the kit
// against the binary with the options the host would pass.
func ExampleRun() {
	_ = func(t *testing.T) {
		path := drivertest.Build(t, "example.com/mydriver/cmd/mogan-driver-mine", "mine")
		drivertest.Run(t, drivertest.Config{
			Path:    path,
			Options: map[string]string{"url": "http://127.0.0.1:6385"},
		})
	}
}
