package driverplugin

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/mogan-manage/mogan-manage/proto/driverv1"
	"github.com/mogan-manage/mogan-manage/shared/driver"
)

// connect serves impl with the SDK's server in-process and returns the
// SDK's client of it: both sides of the plugin boundary, without a
// process.
func connect(t *testing.T, impl driver.Driver) *grpcClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	driverv1.RegisterDriverServer(srv, &grpcServer{impl: impl})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &grpcClient{rpc: driverv1.NewDriverClient(conn), conn: conn}
}

// bare is a driver without any optional capability.
type bare struct{}

func (bare) Info(context.Context) (driver.Info, error) {
	return driver.Info{Name: "bare", Version: "1"}, nil
}
func (bare) Configure(context.Context, map[string]string) error { return nil }

// migrator has the three migration capabilities and records what it got.
type migrator struct {
	bare
	enrolled driver.EnrollRequest
	enroll   func(driver.EnrollRequest) (driver.EnrollState, error)
	calls    []string
}

func (m *migrator) EnrollNode(_ context.Context, req driver.EnrollRequest) (driver.EnrollState, error) {
	m.enrolled = req
	return m.enroll(req)
}

func (m *migrator) CheckEnroll(_ context.Context, req driver.EnrollRequest) error {
	m.calls = append(m.calls, "CheckEnroll "+req.NodeUUID)
	return driver.Conflict("a port with MAC %s already exists", req.Machine.Ports[0].MAC)
}

func (m *migrator) DeleteEnrolled(_ context.Context, mig, node string) error {
	m.calls = append(m.calls, "DeleteEnrolled "+mig+" "+node)
	return nil
}

func (m *migrator) ExportNode(_ context.Context, node string) (driver.Export, error) {
	return driver.Export{Machine: driver.Machine{Name: "exported", Secrets: []string{"ipmi_password"},
		DriverInfo: map[string]any{"ipmi_address": "10.0.0.1"}, Ports: []driver.MachinePort{{MAC: "m", NeutronPortID: "vif"}}},
		State: driver.NodeState{NodeUUID: node, Exists: true, ProvisionState: "active"}, Maintenance: true}, nil
}

func (m *migrator) HoldNode(_ context.Context, mig, node string) error {
	m.calls = append(m.calls, "HoldNode "+mig+" "+node)
	return nil
}

func (m *migrator) UnholdNode(_ context.Context, mig, node string) error {
	m.calls = append(m.calls, "UnholdNode "+mig+" "+node)
	return nil
}

func (m *migrator) ReleaseNode(_ context.Context, mig, node string) error {
	m.calls = append(m.calls, "ReleaseNode "+mig+" "+node)
	return driver.Conflict("node %s is not held by migration %s", node, mig)
}

// TestMigrationCallsCrossTheBoundary: each migration call reaches the
// driver with what the host sent and comes back with what it answered.
func TestMigrationCallsCrossTheBoundary(t *testing.T) {
	pxe := false
	req := driver.EnrollRequest{MigrationID: "m1", NodeUUID: "n1", Secrets: map[string]string{"ipmi_password": "pw"},
		Machine: driver.Machine{Name: "a", Driver: "ipmi", DriverInfo: map[string]any{}, Secrets: []string{"ipmi_password"},
			Ports: []driver.MachinePort{{MAC: "m", PXEEnabled: &pxe, NeutronPortID: "vif"}}}}
	impl := &migrator{enroll: func(driver.EnrollRequest) (driver.EnrollState, error) {
		return driver.EnrollState{ProvisionState: "manageable", PowerState: "power on"}, nil
	}}
	c := connect(t, impl)
	st, err := c.EnrollNode(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(driver.EnrollState{ProvisionState: "manageable", PowerState: "power on"}, st); diff != "" {
		t.Errorf("EnrollNode answered (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(req, impl.enrolled, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("the driver got (-sent +got):\n%s", diff)
	}
	if impl.enrolled.Machine.DriverInfo == nil {
		t.Error("an empty driver_info arrived as nil")
	}
	exp, err := c.ExportNode(t.Context(), "n2")
	if err != nil {
		t.Fatal(err)
	}
	if exp.Machine.Name != "exported" || exp.Machine.Ports[0].NeutronPortID != "vif" || !exp.Maintenance || exp.State.NodeUUID != "n2" {
		t.Errorf("ExportNode = %+v", exp)
	}
	for _, call := range []func() error{
		func() error { return c.DeleteEnrolled(t.Context(), "m1", "n1") },
		func() error { return c.HoldNode(t.Context(), "m1", "n2") },
		func() error { return c.UnholdNode(t.Context(), "m1", "n2") },
	} {
		if err := call(); err != nil {
			t.Error(err)
		}
	}
	if err := c.ReleaseNode(t.Context(), "m1", "n2"); !errors.Is(err, driver.ErrConflict) {
		t.Errorf("ReleaseNode = %v, want the driver's ErrConflict", err)
	}
	if err := c.CheckEnroll(t.Context(), req); !errors.Is(err, driver.ErrConflict) || !strings.Contains(err.Error(), "MAC m") {
		t.Errorf("CheckEnroll = %v, want the driver's ErrConflict naming the MAC", err)
	}
	want := []string{"DeleteEnrolled m1 n1", "HoldNode m1 n2", "UnholdNode m1 n2", "ReleaseNode m1 n2", "CheckEnroll n1"}
	if diff := cmp.Diff(want, impl.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// TestMigrationCallsNotImplemented: a driver without the capabilities
// answers Unimplemented to each call, which the host reads as
// driver.ErrNotImplemented (HTTP 501).
func TestMigrationCallsNotImplemented(t *testing.T) {
	c := connect(t, bare{})
	calls := map[string]func() error{
		"EnrollNode": func() error {
			_, err := c.EnrollNode(t.Context(), driver.EnrollRequest{NodeUUID: "n"})
			return err
		},
		"DeleteEnrolled": func() error { return c.DeleteEnrolled(t.Context(), "m", "n") },
		"CheckEnroll":    func() error { return c.CheckEnroll(t.Context(), driver.EnrollRequest{NodeUUID: "n"}) },
		"ExportNode": func() error {
			_, err := c.ExportNode(t.Context(), "n")
			return err
		},
		"HoldNode":    func() error { return c.HoldNode(t.Context(), "m", "n") },
		"UnholdNode":  func() error { return c.UnholdNode(t.Context(), "m", "n") },
		"ReleaseNode": func() error { return c.ReleaseNode(t.Context(), "m", "n") },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); !errors.Is(err, driver.ErrNotImplemented) {
				t.Errorf("%s = %v, want driver.ErrNotImplemented", name, err)
			}
		})
	}
	info, err := c.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Capabilities) != 0 {
		t.Errorf("capabilities = %v, want none", info.Capabilities)
	}
}

// TestCapabilitiesNameTheMigrationInterfaces: GetInfo names the migration
// capabilities a driver implements.
func TestCapabilitiesNameTheMigrationInterfaces(t *testing.T) {
	info, err := connect(t, &migrator{}).Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{driver.CapabilityEnroll, driver.CapabilityExport, driver.CapabilityRelease}
	if diff := cmp.Diff(want, info.Capabilities); diff != "" {
		t.Errorf("capabilities (-want +got):\n%s", diff)
	}
}

// TestEnrollErrorsNeverCarrySecrets: whatever error a driver answers
// EnrollNode with, the host gets it with its kind, reason and option but
// without any secret value of the request.
func TestEnrollErrorsNeverCarrySecrets(t *testing.T) {
	const secret, other = "Xyzzy-4711-s3cret", "Xyzzy"
	tests := map[string]struct {
		err      error
		kind     error
		reason   string
		option   string
		contains string
	}{
		"in the reason": {driver.NotManageable("n", "the BMC refused "+secret), driver.ErrNotManageable,
			"the BMC refused ***", "", "cannot be managed"},
		"in a conflict": {driver.Conflict("driver_info %s and %s", secret, other), driver.ErrConflict, "", "", "driver_info *** and ***"},
		"with an option": {driver.InvalidOption("ipmi_password", "%q is too long", secret), driver.ErrInvalidArgument,
			"", "ipmi_password", `"***" is too long`},
		"no kind":      {errors.New("boom " + secret), nil, "", "", "boom ***"},
		"kept as is":   {driver.Unavailable("Ironic is down"), driver.ErrUnavailable, "", "", "Ironic is down"},
		"wrapped kind": {errors.Join(errors.New(secret), driver.NotFound("gone")), driver.ErrNodeNotFound, "", "", "gone"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			impl := &migrator{enroll: func(driver.EnrollRequest) (driver.EnrollState, error) { return driver.EnrollState{}, tc.err }}
			_, err := connect(t, impl).EnrollNode(t.Context(), driver.EnrollRequest{NodeUUID: "n",
				Secrets: map[string]string{"ipmi_password": secret, "snmp_community": other, "empty": ""}})
			if err == nil {
				t.Fatal("EnrollNode succeeded")
			}
			if tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("err = %v, want kind %v", err, tc.kind)
			}
			for _, text := range []string{err.Error(), driver.ReasonOf(err)} {
				if strings.Contains(text, other) {
					t.Errorf("a secret crossed the boundary: %q", text)
				}
			}
			if got := driver.ReasonOf(err); got != tc.reason {
				t.Errorf("reason = %q, want %q", got, tc.reason)
			}
			if got := driver.OptionOf(err); got != tc.option {
				t.Errorf("option = %q, want %q", got, tc.option)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("err = %q, want it to contain %q", err, tc.contains)
			}
		})
	}
}
