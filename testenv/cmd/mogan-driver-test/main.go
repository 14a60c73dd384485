// Command mogan-driver-test is a driver plugin that misbehaves on demand,
// for the host's crash-isolation tests and benchmarks. Tests build it with
// `go build` into a plugin directory as mogan-driver-<name>; it is never
// shipped.
//
// It implements every capability. Its behaviour comes from a JSON control
// file, whose path is the Configure option control_file and which is
// re-read on every call, so a test changes the behaviour between calls by
// rewriting the file. Without control_file every call behaves normally
// with 10 nodes. The format, every field optional:
//
//	{
//	  "count": 100000,    // nodes in the listing (default 10)
//	  "list": "normal",   // mode of ListManageableNodes
//	  "get": "normal",    // mode of GetManageableNode
//	  "manage": "normal", // mode of Manage
//	  "unmanage": "normal",
//	  "after": 50,        // list only: nodes streamed normally before the mode applies
//	  "delay": "10ms",    // "slow": wait before each node (list) or before answering;
//	                      // "panic", "exit": wait before crashing
//	  "reason": "..."     // "not_manageable": the reason given
//	}
//
// Modes: "normal"; "panic" (the plugin process panics); "exit"
// (os.Exit(2)); "hang" (block until the call's context is done); "slow"
// (normal after delay); and the typed errors "not_found",
// "not_manageable", "conflict", "unavailable", "invalid".
//
// Nodes are generated from their index i: UUID
// 00000000-0000-4000-8000-<i as 12 hex digits>, name node-<i>, resource
// class "gold" for even i and "silver" for odd i, two ports and a
// portgroup; every tenth node (i%10 == 9) cannot be managed ("node is in
// maintenance") and is listed only with include_unmanageable. Listing
// honours resource_class, limit, marker and include_unmanageable.
//
// Crash at start-up: when a file named <binary path>.crash-on-start
// exists, the binary exits with status 3 before serving, so a test can make
// every restart fail.
package main

import (
	"fmt"
	"os"

	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
)

func main() {
	if _, err := os.Stat(os.Args[0] + ".crash-on-start"); err == nil {
		fmt.Fprintln(os.Stderr, "testdriver: told to crash on start")
		os.Exit(3)
	}
	driverplugin.Serve(newDriver)
}
