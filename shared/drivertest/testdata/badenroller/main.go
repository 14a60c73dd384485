// Command badenroller is a driver plugin that claims enroll and breaks
// its rules, for the conformance kit's own test: it keeps nodes in
// memory, answers done at the first call (creating and adopting at once),
// takes any MAC and any name, and deletes whatever node it is asked to.
// With BADENROLLER_FOREIGN set, that node exists from the start, enrolled
// by nobody.
package main

import (
	"context"
	"os"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

func main() {
	driverplugin.Serve(func(hclog.Logger) driver.Driver {
		var mu sync.Mutex
		nodes := map[string]bool{}
		if foreign := os.Getenv("BADENROLLER_FOREIGN"); foreign != "" {
			nodes[foreign] = true
		}
		return &drivertest.FuncDriver{
			InfoFunc: func(context.Context) (driver.Info, error) {
				return driver.Info{Name: "badenroller", Version: "1",
					Capabilities: []string{driver.CapabilityEnroll, driver.CapabilityStates}}, nil
			},
			EnrollFunc: func(_ context.Context, req driver.EnrollRequest) (driver.EnrollState, error) {
				mu.Lock()
				defer mu.Unlock()
				nodes[req.NodeUUID] = true
				return driver.EnrollState{ProvisionState: "active", Protected: true, Done: true}, nil
			},
			DeleteEnrolledFunc: func(_ context.Context, _, nodeUUID string) error {
				mu.Lock()
				defer mu.Unlock()
				delete(nodes, nodeUUID)
				return nil
			},
			StatesFunc: func(_ context.Context, ids []string) ([]driver.NodeState, error) {
				mu.Lock()
				defer mu.Unlock()
				out := make([]driver.NodeState, len(ids))
				for i, id := range ids {
					out[i] = driver.NodeState{NodeUUID: id, Exists: nodes[id]}
				}
				return out, nil
			},
		}
	})
}
