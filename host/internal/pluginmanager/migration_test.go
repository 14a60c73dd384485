package pluginmanager

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// TestMigrationCallsOfAPluginWithoutThem: the noop plugin answers each
// migration call through the supervised driver with ErrNotImplemented
// (HTTP 501), and keeps running.
func TestMigrationCallsOfAPluginWithoutThem(t *testing.T) {
	m, err := New(Config{Name: "noop", PluginDir: pluginDir(t, "noop"), CallTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	pid, d := m.Pid(), m.Driver()
	calls := map[string]func(context.Context) error{
		"EnrollNode": func(ctx context.Context) error {
			_, err := d.EnrollNode(ctx, driver.EnrollRequest{NodeUUID: "n", Secrets: map[string]string{"p": "s"}})
			return err
		},
		"DeleteEnrolled": func(ctx context.Context) error { return d.DeleteEnrolled(ctx, "m", "n") },
		"ExportNode": func(ctx context.Context) error {
			_, err := d.ExportNode(ctx, "n")
			return err
		},
		"HoldNode":    func(ctx context.Context) error { return d.HoldNode(ctx, "m", "n") },
		"UnholdNode":  func(ctx context.Context) error { return d.UnholdNode(ctx, "m", "n") },
		"ReleaseNode": func(ctx context.Context) error { return d.ReleaseNode(ctx, "m", "n") },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(t.Context()); !errors.Is(err, driver.ErrNotImplemented) {
				t.Errorf("%s = %v, want driver.ErrNotImplemented", name, err)
			}
		})
	}
	if got := m.Pid(); got != pid {
		t.Errorf("the plugin was restarted: pid %d -> %d", pid, got)
	}
}

// TestEnrollNodeIsSupervised: EnrollNode runs under the call timeout like
// every call, and its secrets reach no log line of the host or of
// go-plugin (at trace level) and no error, while the driver's error keeps
// its kind and reason.
func TestEnrollNodeIsSupervised(t *testing.T) {
	const secret = "Xyzzy-4711-s3cret"
	logs := &logBuffer{}
	m, err := New(Config{
		Name: "enroller", PluginDir: pluginDir(t, "enroller"), CallTimeout: shortTimeout,
		Logger: hclog.New(&hclog.LoggerOptions{Name: "host", Output: logs, Level: hclog.Trace}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	req := driver.EnrollRequest{MigrationID: "m1", NodeUUID: "7de2859d-ec6d-42c7-bb86-9d630ba5ac94",
		Machine: driver.Machine{Name: "leak", DriverInfo: map[string]any{"ipmi_username": "admin"}, Secrets: []string{"ipmi_password"}},
		Secrets: map[string]string{"ipmi_password": secret}}

	_, err = m.Driver().EnrollNode(t.Context(), req)
	if !errors.Is(err, driver.ErrNotManageable) || driver.ReasonOf(err) != "the BMC refused ***" {
		t.Errorf("EnrollNode = %v (reason %q), want ErrNotManageable with the secret scrubbed", err, driver.ReasonOf(err))
	}
	req.Machine.Name = "hang"
	start := time.Now()
	_, err = m.Driver().EnrollNode(t.Context(), req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a hung EnrollNode = %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 5*shortTimeout {
		t.Errorf("a hung EnrollNode took %s, the call timeout is %s", took, shortTimeout)
	}
	select { // the plugin's own lines reach the host
	case <-logs.seen("enrolling"):
	case <-time.After(10 * time.Second):
		t.Error("the plugin's log line never reached the host's log")
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("a secret reached the log:\n%s", logs.String())
	}
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("a secret reached the error: %v", err)
	}
}
