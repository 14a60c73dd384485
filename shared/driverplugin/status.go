package driverplugin

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mogan-manage/mogan-manage/proto/driverv1"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// ErrPluginGone means the driver process exited or its connection broke
// mid-call: the call's outcome is unknown and the plugin needs a restart.
var ErrPluginGone = errors.New("driver plugin exited or is unreachable")

// kindCodes is the one table between the SDK's error kinds and gRPC status
// codes. The first entry for a code wins on the way back.
var kindCodes = []struct {
	kind error
	code codes.Code
}{
	{driver.ErrNotImplemented, codes.Unimplemented},
	{driver.ErrNodeNotFound, codes.NotFound},
	{driver.ErrNotManageable, codes.FailedPrecondition},
	{driver.ErrConflict, codes.Aborted},
	{driver.ErrConflict, codes.AlreadyExists},
	{driver.ErrUnavailable, codes.Unavailable},
	{driver.ErrInvalidArgument, codes.InvalidArgument},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
	{context.Canceled, codes.Canceled},
}

// toStatus turns a driver's error into the status the plugin answers with.
// Every status carries an ErrorDetail, so the host can tell a driver's own
// Unavailable from a broken connection.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	code := codes.Unknown
	for _, kc := range kindCodes {
		if errors.Is(err, kc.kind) {
			code = kc.code
			break
		}
	}
	st := status.New(code, err.Error())
	detailed, derr := st.WithDetails(&driverv1.ErrorDetail{
		Reason: driver.ReasonOf(err),
		Option: driver.OptionOf(err),
	})
	if derr != nil {
		return st.Err()
	}
	return detailed.Err()
}

// fromStatus turns a status received by the host back into the driver's
// error: errors.Is sees the same kind and ReasonOf the same reason.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%w: %w", ErrPluginGone, err)
	}
	var detail *driverv1.ErrorDetail
	for _, d := range st.Details() {
		if ed, ok := d.(*driverv1.ErrorDetail); ok {
			detail = ed
		}
	}
	if detail == nil {
		// Not from the SDK's server: gRPC itself failed the call.
		switch st.Code() {
		case codes.DeadlineExceeded:
			return fmt.Errorf("driver call: %w", context.DeadlineExceeded)
		case codes.Canceled:
			return fmt.Errorf("driver call: %w", context.Canceled)
		case codes.Unimplemented:
			// An older plugin that lacks this RPC altogether.
			return &driver.Error{Kind: driver.ErrNotImplemented, Message: st.Message()}
		default:
			return fmt.Errorf("%w: %s", ErrPluginGone, st.Message())
		}
	}
	for _, kc := range kindCodes {
		if kc.code == st.Code() {
			return &driver.Error{
				Kind:    kc.kind,
				Message: st.Message(),
				Reason:  detail.GetReason(),
				Option:  detail.GetOption(),
			}
		}
	}
	return errors.New(st.Message())
}
