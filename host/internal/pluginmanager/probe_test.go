package pluginmanager

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/driverplugin"
)

// TestProbe: Probe starts the plugin as Start does, says what it is, runs
// the question asked while it runs, never configures it, and stops it.
func TestProbe(t *testing.T) {
	dir := pluginDir(t, "test")
	if err := os.WriteFile(filepath.Join(dir, binaryPrefix+"quits"), []byte("#!/bin/sh\necho broken config >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Run("what it is", func(t *testing.T) {
		// An option Start would refuse: Probe never checks or hands over
		// the section.
		m, err := New(Config{Name: "test", PluginDir: dir, Options: map[string]string{"colour": "blue"}})
		if err != nil {
			t.Fatal(err)
		}
		var live driver.Full
		var asked driver.Info
		got, err := m.Probe(t.Context(), func(ctx context.Context, d driver.Full) error {
			live = d
			var err error
			asked, err = d.Info(ctx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := Probe{
			Info:     driver.Info{Name: got.Info.Name, Version: "0.0.1-test", Capabilities: []string{"discover", "adopt", "node_states"}},
			Protocol: driverplugin.ProtocolVersion,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Probe (-want +got):\n%s", diff)
		}
		if asked.Version != "0.0.1-test" {
			t.Errorf("the question asked while it ran got %+v", asked)
		}
		if _, err := live.Info(t.Context()); err == nil {
			t.Error("a call after Probe succeeded: the plugin was not stopped")
		}
		if m.Pid() != 0 || m.Info().Version != "" {
			t.Errorf("Probe left the manager running plugin %d (%+v)", m.Pid(), m.Info())
		}
	})
	t.Run("the question's error", func(t *testing.T) {
		m, err := New(Config{Name: "test", PluginDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		asked := errors.New("no")
		if _, err := m.Probe(t.Context(), func(context.Context, driver.Full) error { return asked }); !errors.Is(err, asked) {
			t.Errorf("Probe = %v; want the question's error", err)
		}
	})
	t.Run("not a plugin", func(t *testing.T) {
		m, err := New(Config{Name: "quits", PluginDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Probe(t.Context(), nil)
		if err == nil {
			t.Fatal("Probe succeeded")
		}
		msg := err.Error()
		for _, want := range []string{`driver "quits"`, "broken config"} {
			if !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line containing %q", msg, want)
			}
		}
	})
}
