package pluginmanager

import (
	"context"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// The migration capabilities, each one supervised call under the call
// timeout. EnrollNode's request carries secrets: nothing here logs a
// request (the call's op name, its outcome and the driver's error, which
// the SDK scrubs of secret values, are all that is logged or counted).

func (s supervised) EnrollNode(ctx context.Context, req driver.EnrollRequest) (driver.EnrollState, error) {
	var st driver.EnrollState
	err := s.m.call(ctx, "EnrollNode", func(ctx context.Context, d driver.Full) error {
		var err error
		st, err = d.EnrollNode(ctx, req)
		return err
	})
	return st, err
}

func (s supervised) CheckEnroll(ctx context.Context, req driver.EnrollRequest) error {
	return s.m.call(ctx, "CheckEnroll", func(ctx context.Context, d driver.Full) error {
		return d.CheckEnroll(ctx, req)
	})
}

func (s supervised) DeleteEnrolled(ctx context.Context, migrationID, nodeUUID string) error {
	return s.m.call(ctx, "DeleteEnrolled", func(ctx context.Context, d driver.Full) error {
		return d.DeleteEnrolled(ctx, migrationID, nodeUUID)
	})
}

func (s supervised) ExportNode(ctx context.Context, nodeUUID string) (driver.Export, error) {
	var exp driver.Export
	err := s.m.call(ctx, "ExportNode", func(ctx context.Context, d driver.Full) error {
		var err error
		exp, err = d.ExportNode(ctx, nodeUUID)
		return err
	})
	return exp, err
}

func (s supervised) HoldNode(ctx context.Context, migrationID, nodeUUID string) error {
	return s.m.call(ctx, "HoldNode", func(ctx context.Context, d driver.Full) error {
		return d.HoldNode(ctx, migrationID, nodeUUID)
	})
}

func (s supervised) UnholdNode(ctx context.Context, migrationID, nodeUUID string) error {
	return s.m.call(ctx, "UnholdNode", func(ctx context.Context, d driver.Full) error {
		return d.UnholdNode(ctx, migrationID, nodeUUID)
	})
}

func (s supervised) ReleaseNode(ctx context.Context, migrationID, nodeUUID string) error {
	return s.m.call(ctx, "ReleaseNode", func(ctx context.Context, d driver.Full) error {
		return d.ReleaseNode(ctx, migrationID, nodeUUID)
	})
}
