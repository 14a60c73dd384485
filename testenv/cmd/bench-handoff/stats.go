package main

import (
	"fmt"
	"path/filepath"
	"regexp"

	"github.com/mogan-manage/mogan-manage/testenv/internal/benchkit"
)

// neutronLog is the path of Neutron's log (testenv/neutron writes it in
// its directory).
func (b *bench) neutronLog() string { return filepath.Join(b.dir, "neutron", "neutron.log") }

// requests counts the requests a service's log holds from offset on, with
// the uuids in their paths folded.
func requests(logPath string, offset int64) string {
	return benchkit.CountRequests(logPath, offset, func(path string) string { return uuidIn.ReplaceAllString(path, "{id}") })
}

// uuidIn is a uuid anywhere in a path (a node's uuid, or a name that
// holds one).
var uuidIn = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// measure reads the processes' CPU seconds and where the services' logs
// stand before a run; what it returns says what the run cost.
func (b *bench) measure() func() string {
	before := b.cpu()
	aAt, bAt, neutronAt := benchkit.FileSize(b.a.Log), benchkit.FileSize(b.b.Log), benchkit.FileSize(b.neutronLog())
	return func() string {
		return fmt.Sprintf("CPU s: %s; A's requests: %s; B's requests: %s; Neutron requests: %s", b.cpu().since(before),
			requests(b.a.Log, aAt), requests(b.b.Log, bAt), requests(b.neutronLog(), neutronAt))
	}
}

// cpuTimes are the CPU seconds of the processes a run uses.
type cpuTimes struct{ host, plugins, a, b, neutron float64 }

func (b *bench) cpu() cpuTimes {
	return cpuTimes{host: benchkit.ProcessCPU(b.host.pid), plugins: benchkit.ProcessesCPU(b.host.plugins), a: benchkit.GroupCPU(b.a.PID),
		b: benchkit.GroupCPU(b.b.PID), neutron: benchkit.ProcessesCPU(b.neutron.Processes())}
}

func (c cpuTimes) since(before cpuTimes) string {
	return fmt.Sprintf("host %.1f, plugins %.1f, Ironic A %.1f, Ironic B %.1f, Neutron %.1f", c.host-before.host,
		c.plugins-before.plugins, c.a-before.a, c.b-before.b, c.neutron-before.neutron)
}
