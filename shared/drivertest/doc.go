// Package drivertest is the conformance kit for driver plugin authors: Run
// starts a built mogan-driver-* binary through the host's own loader
// (driverplugin.Launch) and checks, as subtests, that it keeps the
// host-driver contract: handshake, GetInfo, Configure, one answer per
// capability (ErrNotImplemented for a missing one), streaming that ends
// cleanly and honours limit, marker and cancellation, one manageability
// rule (a listed node re-validates as manageable), GetNodeStates answering
// one state per uuid and refusing more than driver.MaxNodeStates, and
// typed errors that survive the trip, ErrNotImplemented for every
// migration capability not claimed. By default it changes nothing in the
// backend; Config.Adopt adds a whole adoption and release of one real
// listed node; Config.Enroll checks the enroll capability's rules (one
// transition a call, idempotent by node uuid, a conflict on a MAC or a
// name, undo only what it created) by enrolling and undoing machines;
// Config.Handoff checks export and release (masked fields named as
// secrets, hold refusing what cannot move and idempotent, unhold and
// release acting only on that migration's own hold) on nodes the caller
// prepared, releasing one; Config.Observer, a view of the driver's backend requests, adds that no
// request of the run touches a machine. Build compiles a plugin for it; FuncDriver is an in-process
// driver of function fields for unit tests of code that calls a driver.
package drivertest
