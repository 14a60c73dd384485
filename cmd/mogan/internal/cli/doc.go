// Package cli is the `mogan` command line: cobra commands over the
// client package, output as tables or JSON, progress for bulk adoption,
// and the exit codes (0 done, 1 failed, 2 usage).
package cli
