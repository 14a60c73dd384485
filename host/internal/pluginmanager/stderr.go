package pluginmanager

import "sync"

// Limits of the stderr tail kept for each plugin process.
const (
	tailLines   = 20
	maxLineSize = 4096
)

// stderrTail keeps the last lines a plugin wrote on stderr, so that the
// host can show why a plugin died: go-plugin hands the raw stream to
// LaunchConfig.Stderr, and a Go panic's trace is not a log line.
type stderrTail struct {
	mu      sync.Mutex
	lines   []string // ring of at most tailLines
	next    int
	partial []byte
}

func (t *stderrTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range p {
		if b == '\n' {
			t.push(string(t.partial))
			t.partial = t.partial[:0]
			continue
		}
		if len(t.partial) < maxLineSize {
			t.partial = append(t.partial, b)
		}
	}
	return len(p), nil
}

func (t *stderrTail) push(line string) {
	if len(t.lines) < tailLines {
		t.lines = append(t.lines, line)
		return
	}
	t.lines[t.next] = line
	t.next = (t.next + 1) % tailLines
}

// Lines returns the kept lines, oldest first, including an unfinished last
// line.
func (t *stderrTail) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.lines)+1)
	out = append(out, t.lines[t.next:]...)
	out = append(out, t.lines[:t.next]...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	return out
}
