// Command mogan-driver-inventory offers the machines listed in a JSON file for
// adoption: a whole driver plugin from the public SDK alone (adoption is 501).
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
)

// inventory is a driver.Driver, a driver.ConfigDescriber and a driver.Discoverer (discover.go).
type inventory struct{ nodes []driver.Node }

func main() { driverplugin.Serve(func(hclog.Logger) driver.Driver { return &inventory{} }) }

func (d *inventory) Info(context.Context) (driver.Info, error) {
	return driver.Info{Name: "inventory", Version: "1.0.0"}, nil
}

// ConfigSchema describes [inventory]: the host checks the section against it.
func (d *inventory) ConfigSchema(context.Context) ([]driver.ConfigOption, error) {
	return []driver.ConfigOption{{Name: "file", Required: true, Help: "a JSON array of driver.Node"}}, nil
}

func (d *inventory) Configure(_ context.Context, options map[string]string) error {
	b, err := os.ReadFile(options["file"])
	if err == nil {
		err = json.Unmarshal(b, &d.nodes) // a node with "Manageable": false says why in "Reason"
	}
	if err != nil {
		return driver.InvalidOption("file", "%v", err)
	}
	return nil
}
