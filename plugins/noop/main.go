// Command mogan-driver-noop is the driver that manages nothing: it names
// itself and accepts no options, and every discovery or adoption call
// answers "not implemented" (HTTP 501). It shows the smallest driver and
// lets the host run without hardware.
package main

import (
	"github.com/mogan-manage/mogan-manage/plugins/noop/noopdriver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
)

func main() { driverplugin.Serve(noopdriver.New) }
