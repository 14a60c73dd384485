package main

import (
	"fmt"
	"io"
)

// printf writes a command's answer to its terminal or pipe; a write that
// fails there (a closed pipe) has nowhere better to be reported.
func printf(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}
