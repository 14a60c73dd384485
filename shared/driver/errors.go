package driver

import (
	"errors"
	"fmt"
)

// The kinds of failure a driver reports. They survive the trip through gRPC
// (shared/driverplugin maps each to one status code and back), so the host
// tests them with errors.Is exactly as the driver returned them.
var (
	// ErrNotImplemented: the driver lacks the capability (HTTP 501).
	ErrNotImplemented = errors.New("not implemented by this driver")
	// ErrNodeNotFound: the driver does not know the node (HTTP 404).
	ErrNodeNotFound = errors.New("node not found")
	// ErrNotManageable: the node exists but cannot be managed; the
	// NotManageableError carrying it says why (HTTP 409).
	ErrNotManageable = errors.New("node cannot be managed")
	// ErrConflict: someone else changed or owns the node (HTTP 409).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the backend (e.g. Ironic) cannot be reached (HTTP 503).
	ErrUnavailable = errors.New("backend unavailable")
	// ErrInvalidArgument: a request or option the driver refuses (HTTP 400).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNodeProtected: the backend refuses to act on a node someone
	// protected on purpose (Ironic's 403 NodeProtected); the operator must
	// lift the protection first, if that is what they mean (HTTP 409).
	ErrNodeProtected = errors.New("node is protected")
	// ErrInvalidState: the backend refuses the request in the node's
	// current state (Ironic's 409 InvalidState, its 400 for a provision
	// state transition the node cannot make); the operator waits for the
	// node's operation to end or moves it first (HTTP 409).
	ErrInvalidState = errors.New("invalid state for this request")
)

// Error is a driver failure of one of the kinds above with a message for the
// operator. Reason and Option carry the structured detail of
// NotManageable and InvalidOption.
type Error struct {
	Kind    error
	Message string
	// Reason is why a node cannot be managed (Kind ErrNotManageable).
	Reason string
	// Option is the configuration option at fault (Kind ErrInvalidArgument).
	Option string
}

func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return e.Kind.Error()
}

// Unwrap lets errors.Is(err, ErrNodeNotFound) and friends see the kind.
func (e *Error) Unwrap() error { return e.Kind }

// NotFound reports an unknown node.
func NotFound(format string, args ...any) error {
	return &Error{Kind: ErrNodeNotFound, Message: fmt.Sprintf(format, args...)}
}

// NotManageable reports a node that cannot be managed; reason is shown to
// the operator as it is, so it should say what to fix ("node is in
// maintenance").
func NotManageable(nodeUUID, reason string) error {
	return &Error{
		Kind:    ErrNotManageable,
		Message: fmt.Sprintf("node %s cannot be managed: %s", nodeUUID, reason),
		Reason:  reason,
	}
}

// Conflict reports a node someone else owns or changed.
func Conflict(format string, args ...any) error {
	return &Error{Kind: ErrConflict, Message: fmt.Sprintf(format, args...)}
}

// Unavailable reports a backend that cannot be reached.
func Unavailable(format string, args ...any) error {
	return &Error{Kind: ErrUnavailable, Message: fmt.Sprintf(format, args...)}
}

// NodeProtected reports a node the backend keeps from this request
// because it is protected; the message should say how to lift it.
func NodeProtected(format string, args ...any) error {
	return &Error{Kind: ErrNodeProtected, Message: fmt.Sprintf(format, args...)}
}

// InvalidState reports a request the backend refuses in the node's
// current state; the message should say what state would do.
func InvalidState(format string, args ...any) error {
	return &Error{Kind: ErrInvalidState, Message: fmt.Sprintf(format, args...)}
}

// InvalidArgument reports a request the driver refuses.
func InvalidArgument(format string, args ...any) error {
	return &Error{Kind: ErrInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

// InvalidOption reports a configuration option the driver refuses.
func InvalidOption(option, format string, args ...any) error {
	return &Error{
		Kind:    ErrInvalidArgument,
		Message: fmt.Sprintf("option %q: %s", option, fmt.Sprintf(format, args...)),
		Option:  option,
	}
}

// NotImplemented reports a capability the driver lacks.
func NotImplemented(what string) error {
	return &Error{Kind: ErrNotImplemented, Message: what + " is not implemented by this driver"}
}

// ReasonOf returns the reason a node cannot be managed, or "".
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// OptionOf returns the option an InvalidOption error names, or "".
func OptionOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Option
	}
	return ""
}
