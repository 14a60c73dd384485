package pluginmanager

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBackoffDelays(t *testing.T) {
	p := defaultBackoff
	tests := map[string]struct {
		failures int
		want     time.Duration
	}{
		"first crash restarts at once": {failures: 1, want: 0},
		"second waits":                 {failures: 2, want: 250 * time.Millisecond},
		"third doubles":                {failures: 3, want: 500 * time.Millisecond},
		"eighth":                       {failures: 8, want: 16 * time.Second},
		"capped":                       {failures: 9, want: 30 * time.Second},
		"stays capped":                 {failures: 1000, want: 30 * time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := p.delay(tc.failures); got != tc.want {
				t.Errorf("delay(%d) = %s, want %s", tc.failures, got, tc.want)
			}
		})
	}
}

// A plugin that ran long enough before crashing is restarted at once,
// however many crashes came before.
func TestBackoffResetsAfterHealthyRun(t *testing.T) {
	m := &Manager{policy: defaultBackoff}
	for range 5 {
		m.failedLocked(time.Time{}, errors.New("start failed"))
	}
	if d := m.failedLocked(time.Now().Add(-2*time.Minute), errExited); d != 0 {
		t.Errorf("delay after a healthy run = %s, want 0", d)
	}
	if d := m.failedLocked(time.Now(), errExited); d != 250*time.Millisecond {
		t.Errorf("delay after a quick crash = %s, want 250ms", d)
	}
}

func TestStderrTail(t *testing.T) {
	tests := map[string]struct {
		writes []string
		want   []string
	}{
		"nothing":           {writes: nil, want: []string{}},
		"split writes":      {writes: []string{"pan", "ic: x\n", "goroutine 1\n"}, want: []string{"panic: x", "goroutine 1"}},
		"unfinished line":   {writes: []string{"a\nb"}, want: []string{"a", "b"}},
		"keeps the last 20": {writes: numbered(25), want: trimNewlines(numbered(25)[5:])},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var tail stderrTail
			for _, w := range tc.writes {
				if _, err := tail.Write([]byte(w)); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tc.want, tail.Lines()); diff != "" {
				t.Errorf("tail (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStderrTailCutsLongLines(t *testing.T) {
	var tail stderrTail
	if _, err := tail.Write([]byte(strings.Repeat("x", 3*maxLineSize) + "\n")); err != nil {
		t.Fatal(err)
	}
	if lines := tail.Lines(); len(lines) != 1 || len(lines[0]) != maxLineSize {
		t.Errorf("long line kept as %d lines of %d bytes", len(lines), len(lines[0]))
	}
}

func numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("line %d\n", i)
	}
	return out
}

func trimNewlines(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSuffix(l, "\n")
	}
	return out
}
