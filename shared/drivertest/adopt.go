package drivertest

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// adopt never touches a real node: it only uses UUIDs nobody has.
func (k *kit) adopt(t *testing.T) {
	req := driver.ManageRequest{NodeUUID: uuid.NewString(), ServerUUID: uuid.NewString()}
	if !k.has(driver.CapabilityAdopt) {
		t.Run("Manage not implemented", func(t *testing.T) {
			_, err := k.driver().Manage(k.ctx(t), req)
			wantNotImplemented(t, "Manage", err)
		})
		t.Run("Unmanage not implemented", func(t *testing.T) {
			wantNotImplemented(t, "Unmanage", k.driver().Unmanage(k.ctx(t), req))
		})
		return
	}
	t.Run("Manage of an unknown node is not found", func(t *testing.T) {
		_, err := k.driver().Manage(k.ctx(t), req)
		if !errors.Is(err, driver.ErrNodeNotFound) {
			t.Errorf("Manage(%s) = %v, want driver.ErrNodeNotFound", req.NodeUUID, err)
		}
	})
	t.Run("Unmanage of an unknown node", func(t *testing.T) {
		// Idempotent release: nothing to do is fine, so is "not found".
		err := k.driver().Unmanage(k.ctx(t), req)
		if err != nil && !errors.Is(err, driver.ErrNodeNotFound) {
			t.Errorf("Unmanage(%s) = %v, want nil or driver.ErrNodeNotFound", req.NodeUUID, err)
		}
	})
}
