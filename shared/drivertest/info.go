package drivertest

import (
	"slices"
	"testing"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// knownCapabilities are the capability names of this protocol version.
var knownCapabilities = []string{
	driver.CapabilityDiscover, driver.CapabilityAdopt, driver.CapabilityStates,
	driver.CapabilityEnroll, driver.CapabilityExport, driver.CapabilityRelease,
}

func (k *kit) getInfo(t *testing.T) {
	info, err := k.driver().Info(k.ctx(t))
	if err != nil {
		t.Fatalf("GetInfo: %v", err)
	}
	k.info = info
	if info.Name == "" {
		t.Error("GetInfo: empty name")
	}
	if info.Version == "" {
		t.Error("GetInfo: empty version")
	}
	seen := map[string]bool{}
	for _, c := range info.Capabilities {
		if !slices.Contains(knownCapabilities, c) {
			t.Errorf("GetInfo: unknown capability %q (known: %v)", c, knownCapabilities)
		}
		if seen[c] {
			t.Errorf("GetInfo: capability %q listed twice", c)
		}
		seen[c] = true
	}
}

func (k *kit) has(capability string) bool {
	return slices.Contains(k.info.Capabilities, capability)
}
