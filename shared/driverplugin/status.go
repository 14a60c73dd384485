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

// ErrPluginGone means the driver process exited, its connection broke or it
// does not answer a ping (hung): the plugin needs a restart. Only
// Plugin.Check says so, after looking at the process; a failed call alone
// is ErrCallFailed.
var ErrPluginGone = errors.New("driver plugin exited or is unreachable")

// ErrCallFailed means gRPC failed the call without the driver answering it:
// the plugin may have died (Plugin.Check tells), or the host could not
// build its own request (a string that is not UTF-8 fails to marshal),
// which is no reason to restart a healthy plugin.
var ErrCallFailed = errors.New("driver call failed in gRPC")

// callError is an ErrCallFailed with gRPC's code, kept so that the host can
// tell a connection failure (Unavailable) from its own bad request.
type callError struct {
	code codes.Code
	msg  string
}

func (e *callError) Error() string {
	return fmt.Sprintf("%s: %s: %s", ErrCallFailed, e.code, e.msg)
}

func (e *callError) Unwrap() error { return ErrCallFailed }

// IsConnectionFailure reports whether err is an ErrCallFailed that gRPC
// blamed on the connection (codes.Unavailable) rather than on the request.
func IsConnectionFailure(err error) bool {
	var ce *callError
	return errors.As(err, &ce) && ce.code == codes.Unavailable
}

// kindCodes is the one table between the SDK's error kinds and gRPC status
// codes, one row per kind: a plugin answers an error of the kind with code,
// and the host reads code back as the kind (codeKinds, derived from this).
// alsoFrom are further codes read back as the kind, so that a plugin built
// with a later SDK, which may split a kind, still reads as its nearest kind
// here. No code appears twice.
var kindCodes = []struct {
	kind     error
	code     codes.Code
	alsoFrom []codes.Code
}{
	{driver.ErrNotImplemented, codes.Unimplemented, nil},
	{driver.ErrNodeNotFound, codes.NotFound, nil},
	{driver.ErrNotManageable, codes.FailedPrecondition, nil},
	{driver.ErrConflict, codes.Aborted, []codes.Code{codes.AlreadyExists}},
	{driver.ErrUnavailable, codes.Unavailable, nil},
	{driver.ErrInvalidArgument, codes.InvalidArgument, nil},
	{context.DeadlineExceeded, codes.DeadlineExceeded, nil},
	{context.Canceled, codes.Canceled, nil},
}

// codeKinds is kindCodes the other way: the kind a status code reads as.
var codeKinds = func() map[codes.Code]error {
	m := make(map[codes.Code]error)
	for _, kc := range kindCodes {
		m[kc.code] = kc.kind
		for _, c := range kc.alsoFrom {
			m[c] = kc.kind
		}
	}
	return m
}()

// Kinds returns the error kinds that cross the plugin boundary, each with
// a status code of its own: the SDK's (shared/driver) and the context's
// deadline and cancellation. errors.Is sees each on the host as the driver
// returned it.
func Kinds() []error {
	kinds := make([]error, len(kindCodes))
	for i, kc := range kindCodes {
		kinds[i] = kc.kind
	}
	return kinds
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
		return &callError{code: codes.Unknown, msg: err.Error()}
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
			return &callError{code: st.Code(), msg: st.Message()}
		}
	}
	kind, ok := codeKinds[st.Code()]
	if !ok {
		return errors.New(st.Message())
	}
	return &driver.Error{
		Kind:    kind,
		Message: st.Message(),
		Reason:  detail.GetReason(),
		Option:  detail.GetOption(),
	}
}
