package pluginmanager

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// TestOneProcessPerBackend: two backends of one binary are two plugin
// processes, each supervised on its own: the logs say which backend and
// driver, and killing one backend's plugin restarts that one only.
func TestOneProcessPerBackend(t *testing.T) {
	dir := pluginDir(t, "noop")
	logs := &logBuffer{}
	managers := map[string]*Manager{}
	for _, backend := range []string{"east", "west"} {
		m, err := New(Config{Name: "noop", Backend: backend, PluginDir: dir, Logger: logs.logger()})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Stop)
		managers[backend] = m
	}
	east, west := managers["east"].Pid(), managers["west"].Pid()
	if east == 0 || west == 0 || east == west {
		t.Fatalf("pids east %d, west %d: want two processes", east, west)
	}
	for _, want := range []string{"driver plugin started: backend=east driver=noop", "driver plugin started: backend=west driver=noop"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no log line %q in:\n%s", want, logs.String())
		}
	}

	kill(t, east)
	waitGone(t, east, 10*time.Second)
	const node = "00000000-0000-4000-8000-000000000000"
	deadline := time.Now().Add(30 * time.Second)
	for managers["east"].Pid() == 0 || managers["east"].Pid() == east {
		if time.Now().After(deadline) {
			t.Fatalf("east's plugin was not restarted:\n%s", logs.String())
		}
		_, _ = managers["east"].Driver().GetManageableNode(t.Context(), node)
		time.Sleep(50 * time.Millisecond)
	}
	if got := managers["west"].Pid(); got != west {
		t.Errorf("west's plugin is pid %d, was %d: a crash of east's touched it", got, west)
	}
	if _, err := managers["west"].Driver().GetManageableNode(t.Context(), node); !errors.Is(err, driver.ErrNotImplemented) {
		t.Errorf("west after east's crash: %v, want the noop driver's answer", err)
	}
	if !strings.Contains(logs.String(), "backend=east driver=noop") || strings.Contains(logs.String(), "crashed (exited, lost its connection or hung); the next call restarts it: backend=west") {
		t.Errorf("the crash is not logged as east's alone:\n%s", logs.String())
	}
}

// TestErrorsNameTheBackend: a backend named after its driver (every host
// without enabled_backends) keeps the errors it always had; another is
// named beside its driver, with its own section.
func TestErrorsNameTheBackend(t *testing.T) {
	dir := pluginDir(t, "noop")
	tests := map[string]struct {
		backend string
		want    string
	}{
		"no backend":             {"", `driver "noop": the [noop] section: `},
		"named after the driver": {"noop", `driver "noop": the [noop] section: `},
		"a backend of its own":   {"east", `backend "east" (driver "noop"): the [east] section: `},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := New(Config{Name: "noop", Backend: tc.backend, PluginDir: dir, Options: map[string]string{"colour": "blue"}})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Stop()
			err = m.Start(t.Context())
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("Start: %v; want it to begin with %q", err, tc.want)
			}
			if got := driver.OptionOf(err); got != "colour" {
				t.Errorf("OptionOf = %q, want colour", got)
			}
		})
	}
}

func TestBackoffErrorNamesTheBackend(t *testing.T) {
	tests := map[string]struct {
		err  BackoffError
		want string
	}{
		"one backend": {BackoffError{Driver: "ironic", Wait: time.Second, Failures: 2},
			`driver "ironic" is unavailable: it failed 2 times in a row, next restart in 1s`},
		"named after its driver": {BackoffError{Driver: "ironic", Backend: "ironic", Wait: time.Second, Failures: 2},
			`driver "ironic" is unavailable: it failed 2 times in a row, next restart in 1s`},
		"one of several": {BackoffError{Driver: "ironic", Backend: "west", Wait: time.Second, Failures: 2},
			`backend "west" (driver "ironic") is unavailable: it failed 2 times in a row, next restart in 1s`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
