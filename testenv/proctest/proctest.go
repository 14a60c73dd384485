// Package proctest holds the small helpers tests need to watch processes
// they start: whether a process still runs, and a buffer its output can be
// written to from several goroutines, and a free port to start one on.
package proctest

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
)

// Alive reports whether pid is a running process. A zombie nobody reaped
// counts as gone: it runs no code and holds nothing.
func Alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name, which may itself
	// hold spaces and parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// Buffer is a bytes.Buffer safe for concurrent writers, for a process's
// or a logger's output.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
