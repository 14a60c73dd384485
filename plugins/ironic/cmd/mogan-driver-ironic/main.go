// Command mogan-driver-ironic is the mogan-manage driver plugin for
// OpenStack Ironic; the mogan-api host starts it and configures it from its
// [ironic] section.
package main

import (
	"github.com/mogan-manage/mogan-manage/plugins/ironic/ironicdriver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
)

func main() { driverplugin.Serve(ironicdriver.New) }
