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
// codes, one row per kind: a plugin answers an error of the kind with code
// and names it in ErrorDetail.kind, and the host reads the name back as the
// kind. Several kinds may share a code (all of 409's are
// FailedPrecondition or Aborted): a status without a name the host knows
// (from an older plugin, or a kind a later SDK added) reads as the first
// row of its code, the code's own kind (codeKinds). alsoFrom are further
// codes read back as the kind, so that a plugin built with a later SDK,
// which may move a kind, still reads as its nearest kind here.
var kindCodes = []struct {
	kind     error
	name     string
	code     codes.Code
	alsoFrom []codes.Code
}{
	{driver.ErrNotImplemented, "not_implemented", codes.Unimplemented, nil},
	{driver.ErrNodeNotFound, "node_not_found", codes.NotFound, nil},
	{driver.ErrNotManageable, "not_manageable", codes.FailedPrecondition, nil},
	{driver.ErrNodeProtected, "node_protected", codes.FailedPrecondition, nil},
	{driver.ErrInvalidState, "invalid_state", codes.FailedPrecondition, nil},
	{driver.ErrConflict, "conflict", codes.Aborted, []codes.Code{codes.AlreadyExists}},
	{driver.ErrUnavailable, "unavailable", codes.Unavailable, nil},
	{driver.ErrInvalidArgument, "invalid_argument", codes.InvalidArgument, nil},
	{context.DeadlineExceeded, "deadline_exceeded", codes.DeadlineExceeded, nil},
	{context.Canceled, "canceled", codes.Canceled, nil},
}

// codeKinds is kindCodes the other way: the kind a status code reads as
// when no known kind is named, the first row of the code.
var codeKinds = func() map[codes.Code]error {
	m := make(map[codes.Code]error)
	for _, kc := range kindCodes {
		for _, c := range append([]codes.Code{kc.code}, kc.alsoFrom...) {
			if _, taken := m[c]; !taken {
				m[c] = kc.kind
			}
		}
	}
	return m
}()

// nameKinds reads ErrorDetail.kind: a kind by its name, with its code.
var nameKinds = func() map[string]int {
	m := make(map[string]int, len(kindCodes))
	for i, kc := range kindCodes {
		m[kc.name] = i
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
	code, name := codes.Unknown, ""
	if i := kindIndex(err); i >= 0 {
		code, name = kindCodes[i].code, kindCodes[i].name
	}
	st := status.New(code, err.Error())
	detailed, derr := st.WithDetails(&driverv1.ErrorDetail{
		Reason: driver.ReasonOf(err),
		Option: driver.OptionOf(err),
		Kind:   name,
	})
	if derr != nil {
		return st.Err()
	}
	return detailed.Err()
}

// kindIndex is the row of kindCodes err is of, or -1.
func kindIndex(err error) int {
	for i, kc := range kindCodes {
		if errors.Is(err, kc.kind) {
			return i
		}
	}
	return -1
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
	if i, named := nameKinds[detail.GetKind()]; named && kindCodes[i].code == st.Code() {
		kind, ok = kindCodes[i].kind, true
	}
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
