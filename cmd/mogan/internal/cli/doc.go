// Package cli is the `mogan` command line: cobra commands over the
// client package, output as tables or JSON, progress for bulk adoption
// and migration, and the exit codes (0 done, 1 failed, 2 usage or a
// wrong inventory or secrets file).
package cli
