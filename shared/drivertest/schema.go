package drivertest

import (
	"errors"
	"testing"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// configSchema checks the driver's description of its options, when it
// gives one (GetConfigSchema is optional: Unimplemented passes): each
// option named once, of a known type, with help, no secret's default;
// Config.Options pass the host's check against it; and an option it does
// not describe is refused by the check, naming it.
func (k *kit) configSchema(t *testing.T) {
	d, ok := k.driver().(driver.ConfigDescriber)
	if !ok {
		t.Fatal("the SDK's client does not implement driver.ConfigDescriber")
	}
	schema, err := d.ConfigSchema(k.ctx(t))
	if errors.Is(err, driver.ErrNotImplemented) {
		t.Log("the driver does not describe its options: its section is opaque to the host")
		return
	}
	if err != nil {
		t.Fatalf("GetConfigSchema: %v", err)
	}
	for _, p := range driver.CheckSchema(schema) {
		t.Errorf("GetConfigSchema: %s", p)
	}
	if err := driver.CheckOptions(schema, k.cfg.Options); err != nil {
		t.Errorf("the options given to Configure do not match the driver's own schema: %v", err)
	}
	const unknown = "drivertest_no_such_option"
	if err := driver.CheckOptions(schema, map[string]string{unknown: "x"}); driver.OptionOf(err) != unknown {
		t.Errorf("checking an option the schema does not describe: %v; want an InvalidOption naming %s", err, unknown)
	}
}
