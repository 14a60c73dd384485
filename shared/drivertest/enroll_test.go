package drivertest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/drivertest"
)

// badEnrollerEnv makes the test binary run the kit against the bad
// enroller (TestKitCatchesABadEnroller): the value is the plugin's path.
const badEnrollerEnv = "DRIVERTEST_BAD_ENROLLER"

// TestKitCatchesABadEnroller: the kit fails a driver that claims enroll
// and breaks its rules, naming each rule broken. The kit runs in a child
// test process, whose failure is this test's expected outcome.
func TestKitCatchesABadEnroller(t *testing.T) {
	if path := os.Getenv(badEnrollerEnv); path != "" {
		runBadEnroller(t, path)
		return
	}
	path := drivertest.Build(t, "./testdata/badenroller", "badenroller")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKitCatchesABadEnroller$", "-test.v")
	cmd.Env = append(os.Environ(), badEnrollerEnv+"="+path, "BADENROLLER_FOREIGN="+foreignNode)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the kit passed a driver that breaks the enroll rules:\n%s", out)
	}
	for _, want := range []string{
		"the first EnrollNode call answered done",
		"creating, the backend's adoption and the protection are a call each at least",
		"under another migration = <nil>, want driver.ErrConflict",
		"with 52:54:00:00:00:aa already used = <nil>, want driver.ErrConflict",
		"with taken-name already used = <nil>, want driver.ErrConflict",
		"which no migration enrolled = <nil>, want driver.ErrConflict",
		"by another migration = <nil>, want driver.ErrConflict",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the kit's output does not say %q:\n%s", want, out)
		}
	}
}

// foreignNode is a node the bad enroller has from the start.
const foreignNode = "0b8f4a0e-57a4-4b43-9d7e-1f9a3e6f0c01"

func runBadEnroller(t *testing.T, path string) {
	drivertest.Run(t, drivertest.Config{
		Path: path,
		Enroll: &drivertest.EnrollConfig{
			Machine: func() (driver.Machine, map[string]string) {
				id := uuid.NewString()
				return driver.Machine{Name: "m-" + id[:8], Driver: "fake-hardware",
					Ports: []driver.MachinePort{{MAC: "52:54:00:" + id[:2] + ":" + id[2:4] + ":" + id[4:6]}}}, nil
			},
			TakenMAC:    "52:54:00:00:00:aa",
			TakenName:   "taken-name",
			ForeignNode: foreignNode,
		},
	})
}
