package drivertest

import (
	"testing"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// migrationNotImplemented checks that each migration capability the
// driver does not claim answers ErrNotImplemented (HTTP 501).
func (k *kit) migrationNotImplemented(t *testing.T) {
	node, migration := uuid.NewString(), uuid.NewString()
	if !k.has(driver.CapabilityEnroll) {
		t.Run("EnrollNode not implemented", func(t *testing.T) {
			_, err := k.driver().EnrollNode(k.ctx(t), driver.EnrollRequest{MigrationID: migration, NodeUUID: node,
				Machine: driver.Machine{Name: "drivertest-" + node[:8], Driver: "fake-hardware"}})
			wantNotImplemented(t, "EnrollNode", err)
		})
		t.Run("DeleteEnrolled not implemented", func(t *testing.T) {
			wantNotImplemented(t, "DeleteEnrolled", k.driver().DeleteEnrolled(k.ctx(t), migration, node))
		})
	}
	if !k.has(driver.CapabilityExport) {
		t.Run("ExportNode not implemented", func(t *testing.T) {
			_, err := k.driver().ExportNode(k.ctx(t), node)
			wantNotImplemented(t, "ExportNode", err)
		})
	}
	if !k.has(driver.CapabilityRelease) {
		for name, call := range map[string]func(*testing.T) error{
			"HoldNode":    func(t *testing.T) error { return k.driver().HoldNode(k.ctx(t), migration, node) },
			"UnholdNode":  func(t *testing.T) error { return k.driver().UnholdNode(k.ctx(t), migration, node) },
			"ReleaseNode": func(t *testing.T) error { return k.driver().ReleaseNode(k.ctx(t), migration, node) },
		} {
			t.Run(name+" not implemented", func(t *testing.T) { wantNotImplemented(t, name, call(t)) })
		}
	}
}
