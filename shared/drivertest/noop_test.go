package drivertest_test

import (
	"testing"

	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

// The noop plugin, which has no capabilities, keeps the contract.
func TestNoopPlugin(t *testing.T) {
	path := drivertest.Build(t, "github.com/mogan-manage/mogan-manage/plugins/noop", "noop")
	drivertest.Run(t, drivertest.Config{Path: path})
}
