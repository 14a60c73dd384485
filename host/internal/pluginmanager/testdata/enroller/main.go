// Command enroller is a test plugin with the enroll capability: EnrollNode
// of a machine named "hang" waits for its deadline, of any other machine
// fails quoting every secret it was given (the SDK must scrub them) after
// logging what a careful driver logs.
package main

import (
	"context"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

func main() {
	driverplugin.Serve(func(log hclog.Logger) driver.Driver {
		return &drivertest.FuncDriver{
			InfoFunc: func(context.Context) (driver.Info, error) {
				return driver.Info{Name: "enroller", Version: "1", Capabilities: []string{driver.CapabilityEnroll}}, nil
			},
			EnrollFunc: func(ctx context.Context, req driver.EnrollRequest) (driver.EnrollState, error) {
				log.Debug("enrolling", "node", req.NodeUUID, "machine", req.Machine.Name)
				if req.Machine.Name == "hang" {
					<-ctx.Done()
					return driver.EnrollState{}, ctx.Err()
				}
				var values []string
				for _, v := range req.Secrets {
					values = append(values, v)
				}
				return driver.EnrollState{}, driver.NotManageable(req.NodeUUID, "the BMC refused "+strings.Join(values, ", "))
			},
		}
	})
}
