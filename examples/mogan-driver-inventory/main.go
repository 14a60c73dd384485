// Command mogan-driver-inventory offers the machines listed in a JSON file
// for adoption: a whole driver plugin built from the public SDK alone
// (shared/driver, shared/driverplugin). It discovers; adoption answers 501.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
)

// inventory is a driver.Driver and a driver.Discoverer (discover.go).
type inventory struct{ nodes []driver.Node }

func main() { driverplugin.Serve(func(hclog.Logger) driver.Driver { return &inventory{} }) }

func (d *inventory) Info(context.Context) (driver.Info, error) {
	return driver.Info{Name: "inventory", Version: "1.0.0"}, nil
}

// Configure gets the [inventory] section: file is a JSON array of
// driver.Node; a node with "Manageable": false says why in "Reason".
func (d *inventory) Configure(_ context.Context, options map[string]string) error {
	b, err := os.ReadFile(options["file"])
	if err == nil {
		err = json.Unmarshal(b, &d.nodes)
	}
	if err != nil {
		return driver.InvalidOption("file", "%v", err)
	}
	return nil
}
