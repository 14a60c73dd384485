package drivertest

import (
	"context"
	"sync/atomic"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// FuncDriver is an in-process driver.Full made of function fields, for unit
// tests of code that calls a driver. A nil field answers
// driver.ErrNotImplemented; Calls counts every call, so a test can assert
// that a request was refused before the driver was reached.
type FuncDriver struct {
	InfoFunc      func(ctx context.Context) (driver.Info, error)
	ConfigureFunc func(ctx context.Context, options map[string]string) error
	ListFunc      func(ctx context.Context, opts driver.ListOptions, send func(driver.Node) error) error
	GetFunc       func(ctx context.Context, nodeUUID string) (driver.Node, error)
	ManageFunc    func(ctx context.Context, req driver.ManageRequest) (driver.Node, error)
	UnmanageFunc  func(ctx context.Context, req driver.ManageRequest) error
	StatesFunc    func(ctx context.Context, nodeUUIDs []string) ([]driver.NodeState, error)
	// The migration capabilities.
	EnrollFunc         func(ctx context.Context, req driver.EnrollRequest) (driver.EnrollState, error)
	DeleteEnrolledFunc func(ctx context.Context, migrationID, nodeUUID string) error
	CheckEnrollFunc    func(ctx context.Context, req driver.EnrollRequest) error
	ExportFunc         func(ctx context.Context, nodeUUID string) (driver.Export, error)
	HoldFunc           func(ctx context.Context, migrationID, nodeUUID string) error
	UnholdFunc         func(ctx context.Context, migrationID, nodeUUID string) error
	ReleaseFunc        func(ctx context.Context, migrationID, nodeUUID string) error
	calls              atomic.Int64
}

var _ driver.Full = (*FuncDriver)(nil)

// Calls is the number of calls made so far.
func (d *FuncDriver) Calls() int64 { return d.calls.Load() }

// Info implements driver.Driver.
func (d *FuncDriver) Info(ctx context.Context) (driver.Info, error) {
	d.calls.Add(1)
	if d.InfoFunc == nil {
		return driver.Info{Name: "func", Version: "0"}, nil
	}
	return d.InfoFunc(ctx)
}

// Configure implements driver.Driver.
func (d *FuncDriver) Configure(ctx context.Context, options map[string]string) error {
	d.calls.Add(1)
	if d.ConfigureFunc == nil {
		return nil
	}
	return d.ConfigureFunc(ctx, options)
}

// ListManageableNodes implements driver.Discoverer.
func (d *FuncDriver) ListManageableNodes(ctx context.Context, opts driver.ListOptions, send func(driver.Node) error) error {
	d.calls.Add(1)
	if d.ListFunc == nil {
		return driver.NotImplemented("listing manageable nodes")
	}
	return d.ListFunc(ctx, opts, send)
}

// GetManageableNode implements driver.Discoverer.
func (d *FuncDriver) GetManageableNode(ctx context.Context, nodeUUID string) (driver.Node, error) {
	d.calls.Add(1)
	if d.GetFunc == nil {
		return driver.Node{}, driver.NotImplemented("getting a manageable node")
	}
	return d.GetFunc(ctx, nodeUUID)
}

// Manage implements driver.Adopter.
func (d *FuncDriver) Manage(ctx context.Context, req driver.ManageRequest) (driver.Node, error) {
	d.calls.Add(1)
	if d.ManageFunc == nil {
		return driver.Node{}, driver.NotImplemented("managing a node")
	}
	return d.ManageFunc(ctx, req)
}

// Unmanage implements driver.Adopter.
func (d *FuncDriver) Unmanage(ctx context.Context, req driver.ManageRequest) error {
	d.calls.Add(1)
	if d.UnmanageFunc == nil {
		return driver.NotImplemented("unmanaging a node")
	}
	return d.UnmanageFunc(ctx, req)
}

// GetNodeStates implements driver.StateReader.
func (d *FuncDriver) GetNodeStates(ctx context.Context, nodeUUIDs []string) ([]driver.NodeState, error) {
	d.calls.Add(1)
	if d.StatesFunc == nil {
		return nil, driver.NotImplemented("reading node states")
	}
	return d.StatesFunc(ctx, nodeUUIDs)
}

// EnrollNode implements driver.Enroller.
func (d *FuncDriver) EnrollNode(ctx context.Context, req driver.EnrollRequest) (driver.EnrollState, error) {
	d.calls.Add(1)
	if d.EnrollFunc == nil {
		return driver.EnrollState{}, driver.NotImplemented("enrolling a node")
	}
	return d.EnrollFunc(ctx, req)
}

// CheckEnroll implements driver.EnrollChecker.
func (d *FuncDriver) CheckEnroll(ctx context.Context, req driver.EnrollRequest) error {
	d.calls.Add(1)
	if d.CheckEnrollFunc == nil {
		return driver.NotImplemented("checking an enrollment")
	}
	return d.CheckEnrollFunc(ctx, req)
}

// DeleteEnrolled implements driver.Enroller.
func (d *FuncDriver) DeleteEnrolled(ctx context.Context, migrationID, nodeUUID string) error {
	d.calls.Add(1)
	if d.DeleteEnrolledFunc == nil {
		return driver.NotImplemented("deleting an enrolled node")
	}
	return d.DeleteEnrolledFunc(ctx, migrationID, nodeUUID)
}

// ExportNode implements driver.Exporter.
func (d *FuncDriver) ExportNode(ctx context.Context, nodeUUID string) (driver.Export, error) {
	d.calls.Add(1)
	if d.ExportFunc == nil {
		return driver.Export{}, driver.NotImplemented("exporting a node")
	}
	return d.ExportFunc(ctx, nodeUUID)
}

// HoldNode implements driver.Releaser.
func (d *FuncDriver) HoldNode(ctx context.Context, migrationID, nodeUUID string) error {
	d.calls.Add(1)
	if d.HoldFunc == nil {
		return driver.NotImplemented("holding a node")
	}
	return d.HoldFunc(ctx, migrationID, nodeUUID)
}

// UnholdNode implements driver.Releaser.
func (d *FuncDriver) UnholdNode(ctx context.Context, migrationID, nodeUUID string) error {
	d.calls.Add(1)
	if d.UnholdFunc == nil {
		return driver.NotImplemented("unholding a node")
	}
	return d.UnholdFunc(ctx, migrationID, nodeUUID)
}

// ReleaseNode implements driver.Releaser.
func (d *FuncDriver) ReleaseNode(ctx context.Context, migrationID, nodeUUID string) error {
	d.calls.Add(1)
	if d.ReleaseFunc == nil {
		return driver.NotImplemented("releasing a node")
	}
	return d.ReleaseFunc(ctx, migrationID, nodeUUID)
}
