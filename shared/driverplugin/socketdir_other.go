//go:build !unix

package driverplugin

import "io/fs"

// ownedByUs cannot tell the owner here: nothing counts as ours, so
// nothing is removed.
func ownedByUs(fs.FileInfo) bool { return false }

// processExists cannot tell here: every process counts as running.
func processExists(int) bool { return true }
