package ironicdriver

import (
	"testing"

	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

// TestConformanceHandoff: the SDK's conformance kit passes its export and
// release checks for the built plugin against source nodes of the test
// Ironic made for them, through a recording proxy that sees no request of
// the run touch a machine; Ironic's own log shows no provision state and
// no power action for any of them, the released one included.
func TestConformanceHandoff(t *testing.T) {
	hold := richSource(sourceActive).make(t)
	nodes := []*source{
		hold,
		richSource(sourceActive).make(t),
		bareSource(sourceProtected).make(t),
		bareSource(sourceMaintenance).make(t),
		bareSource(sourceAssociated).make(t),
		bareSource(sourceManageable).make(t),
	}
	before := make([]machineLog, len(nodes))
	for i, s := range nodes {
		before[i] = readMachineLog(t, s.UUID)
	}
	rec, err := ironicEnv(t).ironic.Recorder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rec.Close() })
	secrets := map[string]string{}
	for _, field := range []string{"fake_password", "fake_kernel_append"} {
		secrets[field] = hold.DriverInfo[field].(string)
	}
	drivertest.Run(t, drivertest.Config{
		Path:     ironicEnv(t).plugin,
		Options:  map[string]string{"url": rec.URL},
		Observer: rec,
		Handoff: &drivertest.HandoffConfig{
			Hold: hold.UUID, Release: nodes[1].UUID,
			Protected: nodes[2].UUID, Maintenance: nodes[3].UUID, Associated: nodes[4].UUID, NotActive: nodes[5].UUID,
			Secrets: secrets,
		},
	})
	for i, s := range nodes {
		wantMachineUntouched(t, s.UUID, before[i])
	}
	if n := readNode(t, nodes[1].UUID); n != nil {
		t.Errorf("the released node is still in Ironic: %+v", n)
	}
}
