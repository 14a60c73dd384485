package ironicdriver

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mogan-manage/mogan-manage/shared/driver"
	"github.com/mogan-manage/mogan-manage/shared/inventory"
)

// wantExport is what ExportNode should answer for s: the masked
// driver_info fields named as secrets, Ironic's vendor property left out,
// each port's VIF (internal_info over extra; a bond member with the bond's
// MAC and no VIF of its own takes the bond's).
func wantExport(t *testing.T, s *source) driver.Export {
	t.Helper()
	n := readNode(t, s.UUID)
	m := driver.Machine{
		Name: s.Name, Driver: "fake-hardware", ResourceClass: sourceRC, Traits: s.Traits, DeployInterface: "fake",
		Image: s.Image, Owner: s.Owner, Lessee: s.Lessee,
	}
	if n.PowerState != nil {
		m.PowerState = *n.PowerState
	}
	for k, v := range s.DriverInfo {
		if k == "fake_password" || k == "fake_kernel_append" {
			continue
		}
		if m.DriverInfo == nil {
			m.DriverInfo = map[string]any{}
		}
		m.DriverInfo[k] = v
	}
	if len(s.DriverInfo) > 0 {
		m.Secrets = []string{"fake_kernel_append", "fake_password"}
	}
	for k, v := range s.Properties {
		if k == "vendor" {
			continue
		}
		if m.Properties == nil {
			m.Properties = map[string]any{}
		}
		m.Properties[k] = v
	}
	for _, pg := range s.Portgroups {
		g := driver.MachinePortgroup{Name: pg.Name, MAC: pg.MAC, Mode: pg.Mode}
		for _, p := range s.Ports {
			if p.Portgroup >= 0 && s.Portgroups[p.Portgroup].MAC == pg.MAC {
				g.Ports = append(g.Ports, p.MAC)
			}
		}
		m.Portgroups = append(m.Portgroups, g)
	}
	for _, p := range s.Ports {
		vif := firstNonEmpty(p.InternalVIF, p.ExtraVIF)
		if vif == "" && p.Portgroup >= 0 && s.Portgroups[p.Portgroup].MAC == p.MAC {
			pg := s.Portgroups[p.Portgroup]
			vif = firstNonEmpty(pg.InternalVIF, pg.ExtraVIF)
		}
		m.Ports = append(m.Ports, driver.MachinePort{MAC: p.MAC, PXEEnabled: p.PXE, PhysicalNetwork: p.PhysicalNetwork, NeutronPortID: vif})
	}
	return driver.Export{
		Machine: m,
		State: driver.NodeState{
			NodeUUID: s.UUID, Exists: true, InstanceUUID: s.InstanceUUID, PowerState: m.PowerState, ProvisionState: n.ProvisionState,
		},
		Maintenance: s.State == sourceMaintenance,
		Protected:   s.State == sourceProtected,
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// TestExportNode: through the plugin process, a node is described whole —
// ports with PXE, physical network, bond membership and VIF, portgroups
// with their members, traits, image, owner, lessee — with the driver_info
// fields Ironic masks named as secrets and never their values, and its
// state as it is; the export is an inventory's machine. Without Keystone
// there is no Neutron: the ports' networks are left empty.
func TestExportNode(t *testing.T) {
	d := launch(t)
	tests := map[string]*source{
		"ports, portgroups, traits, VIFs, masked fields": richSource(sourceActive),
		"nothing but a driver":                           bareSource(sourceActive),
		"associated":                                     richSource(sourceAssociated),
		"in maintenance":                                 richSource(sourceMaintenance),
		"protected":                                      richSource(sourceProtected),
		"not active":                                     bareSource(sourceManageable),
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			s.make(t)
			before := readMachineLog(t, s.UUID)
			got, err := d.ExportNode(t.Context(), s.UUID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantExport(t, s), got, equateEmpty); diff != "" {
				t.Errorf("ExportNode (-want +got):\n%s", diff)
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"hunter2", "s3cret", "******"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("the export holds %q: %s", secret, b)
				}
			}
			if got.State.ProvisionState == "active" {
				var doc any
				if mb, err := json.Marshal(got.Machine); err != nil {
					t.Fatal(err)
				} else if err := json.Unmarshal(mb, &doc); err != nil {
					t.Fatal(err)
				}
				if _, err := inventory.ValidateMachine(doc); err != nil {
					t.Errorf("the export is not an inventory's machine: %v", err)
				}
			}
			wantMachineUntouched(t, s.UUID, before)
		})
	}
	for name, id := range map[string]string{"unknown": uuid.NewString(), "not a uuid": "source-1"} {
		t.Run(name, func(t *testing.T) {
			if _, err := d.ExportNode(t.Context(), id); !errors.Is(err, driver.ErrNodeNotFound) {
				t.Errorf("ExportNode(%s) = %v, want ErrNodeNotFound", id, err)
			}
		})
	}
}

// TestExportAtAnOlderMicroversion: an api_version older than the owner
// (1.50) and lessee (1.65) fields exports without them; Ironic would
// refuse a request naming them.
func TestExportAtAnOlderMicroversion(t *testing.T) {
	s := richSource(sourceActive).make(t)
	tests := map[string]struct {
		version       string
		owner, lessee string
	}{
		"1.48": {version: "1.48"},
		"1.50": {version: "1.50", owner: s.Owner},
		"1.65": {version: "1.65", owner: s.Owner, lessee: s.Lessee},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := newDriver(nil)
			if err := d.Configure(t.Context(), map[string]string{"url": ironicEnv(t).ironic.URL, "api_version": tc.version}); err != nil {
				t.Fatal(err)
			}
			got, err := d.ExportNode(t.Context(), s.UUID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Machine.Owner != tc.owner || got.Machine.Lessee != tc.lessee {
				t.Errorf("owner %q, lessee %q; want %q, %q", got.Machine.Owner, got.Machine.Lessee, tc.owner, tc.lessee)
			}
		})
	}
}

// TestUnitSplitSecrets: a field is a secret when oslo.utils masks it by
// name, or when Ironic's answer holds the mask (in place in a string, or
// inside a nested value); the others are kept as they are.
func TestUnitSplitSecrets(t *testing.T) {
	tests := map[string]struct {
		info        map[string]any
		wantRest    map[string]any
		wantSecrets []string
	}{
		"none":  {},
		"empty": {info: map[string]any{}},
		"by name": {
			info:        map[string]any{"ipmi_password": "******", "ipmi_address": "10.0.0.1", "redfish_auth_token": "******", "SNMP_Secret": "******"},
			wantRest:    map[string]any{"ipmi_address": "10.0.0.1"},
			wantSecrets: []string{"SNMP_Secret", "ipmi_password", "redfish_auth_token"},
		},
		"masked in place": {
			info:        map[string]any{"kernel_append_params": "nofb password=******", "ipmi_port": float64(623)},
			wantRest:    map[string]any{"ipmi_port": float64(623)},
			wantSecrets: []string{"kernel_append_params"},
		},
		"masked inside": {
			info:        map[string]any{"bmc": map[string]any{"user": "admin", "pass": "******"}, "list": []any{"a", "******"}, "plain": []any{"a"}},
			wantRest:    map[string]any{"plain": []any{"a"}},
			wantSecrets: []string{"bmc", "list"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rest, secrets := splitSecrets(tc.info)
			if diff := cmp.Diff(tc.wantRest, rest, equateEmpty); diff != "" {
				t.Errorf("driver_info (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSecrets, secrets, equateEmpty); diff != "" {
				t.Errorf("secrets (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnitExportRedactedDriverInfo: Ironic shows a caller without
// baremetal:node:get:driver_info a placeholder for the whole driver_info:
// no export, the credentials named at fault.
func TestUnitExportRedactedDriverInfo(t *testing.T) {
	node := uuid.NewString()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/nodes/{id}", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"uuid": node, "provision_state": "active", "driver": "ipmi",
			"driver_info": map[string]any{"content": "** Redacted - requires baremetal:node:get:driver_info permission. **"}})
	})
	mux.HandleFunc("GET /v1/ports", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"ports": []}`)) })
	mux.HandleFunc("GET /v1/portgroups", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"portgroups": []}`)) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	d := newDriver(nil)
	if err := d.Configure(t.Context(), map[string]string{"url": srv.URL}); err != nil {
		t.Fatal(err)
	}
	_, err := d.ExportNode(t.Context(), node)
	if !errors.Is(err, driver.ErrUnavailable) || !strings.Contains(err.Error(), "baremetal:node:get:driver_info") {
		t.Errorf("err = %v, want ErrUnavailable naming the policy", err)
	}
}
