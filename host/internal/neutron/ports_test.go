package neutron_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/host/internal/neutron"
	"github.com/mogan-manage/mogan-manage/testenv/clienttest"
	neutrontest "github.com/mogan-manage/mogan-manage/testenv/neutron"
)

// createPorts makes n unbound ports on the test network and returns them
// as the client should report them.
func createPorts(t *testing.T, n int) []neutron.Port {
	t.Helper()
	var out []neutron.Port
	for range n {
		mac := fmt.Sprintf("52:54:00:%02x:%02x:%02x", randByte(), randByte(), randByte())
		p, err := testNeutron.CreatePort(t.Context(), testNetwork, mac)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fromHarness(p))
	}
	return out
}

func fromHarness(p neutrontest.Port) neutron.Port {
	port := neutron.Port{
		ID: p.ID, NetworkID: p.NetworkID, MACAddress: p.MAC,
		HostID: p.HostID, VNICType: p.VNICType, VIFType: p.VIFType,
	}
	for _, ip := range p.FixedIPs {
		port.FixedIPs = append(port.FixedIPs, neutron.FixedIP{SubnetID: ip.SubnetID, IPAddress: ip.IPAddress})
	}
	return port
}

func randByte() byte {
	b := make([]byte, 1)
	_, _ = rand.Read(b)
	return b[0]
}

// missingIDs returns n UUIDs no port has.
func missingIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		ids[i] = fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	}
	return ids
}

// TestPorts looks up batches of found, missing, malformed and duplicate
// ids through a counting proxy: only the existing ports come back, keyed as
// asked, in one request per chunk of 50 ids plus one per page Neutron adds
// (its pagination_max_limit is pageLimit).
func TestPorts(t *testing.T) {
	ports := createPorts(t, 4)
	proxy := clienttest.NewProxy(t, testNeutron.URL)
	client := newClient(t, proxy.URL)

	// 60 ids: found ports at both ends of each chunk of 50.
	mixed := missingIDs(60)
	mixed[0], mixed[49], mixed[50], mixed[59] = ports[0].ID, ports[1].ID, ports[2].ID, ports[3].ID

	tests := []struct {
		name string
		ids  []string
		want map[string]neutron.Port
		// chunkFound is how many ports each chunk of 50 ids finds: it
		// costs one request per full page of pageLimit, plus the last one.
		chunkFound []int
	}{
		{
			name:       "all found",
			ids:        []string{ports[0].ID, ports[1].ID, ports[2].ID},
			want:       map[string]neutron.Port{ports[0].ID: ports[0], ports[1].ID: ports[1], ports[2].ID: ports[2]},
			chunkFound: []int{3},
		},
		{
			name:       "all missing",
			ids:        missingIDs(3),
			want:       map[string]neutron.Port{},
			chunkFound: []int{0},
		},
		{
			name: "mixed across a chunk boundary",
			ids:  mixed,
			want: map[string]neutron.Port{
				ports[0].ID: ports[0], ports[1].ID: ports[1], ports[2].ID: ports[2], ports[3].ID: ports[3],
			},
			chunkFound: []int{2, 2},
		},
		{
			name: "malformed ids are not sent, duplicates once, case ignored",
			ids:  []string{"", "not-a-uuid", "42", ports[0].ID + "x", ports[0].ID, ports[0].ID, strings.ToUpper(ports[1].ID)},
			want: map[string]neutron.Port{
				ports[0].ID: ports[0], strings.ToUpper(ports[1].ID): ports[1],
			},
			chunkFound: []int{2},
		},
		{
			name: "nothing to ask",
			ids:  []string{"not-a-uuid", "12345"},
			want: map[string]neutron.Port{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy.Take()
			got, err := client.Ports(t.Context(), tt.ids)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ports (-want +got):\n%s", diff)
			}
			// Neutron adds a next link to every full page.
			wantRequests := 0
			for _, found := range tt.chunkFound {
				wantRequests += found/pageLimit + 1
			}
			requests := proxy.Take()
			var idsPerRequest []int
			for _, r := range requests {
				ids := r.Query()["id"]
				idsPerRequest = append(idsPerRequest, len(ids))
				if r.Path != "/v2.0/ports" || len(ids) == 0 || len(ids) > 50 {
					t.Errorf("request %s: want GET /v2.0/ports with 1 to 50 ids", r.Path)
				}
				for _, id := range ids {
					if len(id) != 36 {
						t.Errorf("a request sends the malformed id %q", id)
					}
				}
			}
			if len(requests) != wantRequests {
				t.Errorf("%d requests (ids in each: %v), want %d", len(requests), idsPerRequest, wantRequests)
			}
		})
	}
}

// TestBind binds a port as the adoption does, checks Neutron's own view,
// then binds it back to the values it had, as the undo does.
func TestBind(t *testing.T) {
	client := newClient(t, testNeutron.URL)
	port := createPorts(t, 1)[0]
	before, err := client.Ports(t.Context(), []string{port.ID})
	if err != nil {
		t.Fatal(err)
	}
	prev := before[port.ID]
	if prev.VNICType != "normal" || prev.HostID != "" {
		t.Fatalf("a new port has binding %q/%q, want normal and no host", prev.VNICType, prev.HostID)
	}

	const node = "1be26c0b-03f2-4d2e-ae87-c02d7f33c123"
	steps := []struct {
		name, host, vnic, wantVIF string
	}{
		{"bind", node, "baremetal", "other"},
		{"rebind bound", node, "baremetal", "other"},
		{"undo", prev.HostID, prev.VNICType, "unbound"},
	}
	for _, s := range steps {
		got, err := client.Bind(t.Context(), port.ID, s.host, s.vnic)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		want := port
		want.HostID, want.VNICType, want.VIFType = s.host, s.vnic, s.wantVIF
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: answer (-want +got):\n%s", s.name, diff)
		}
		stored, err := testNeutron.GetPort(t.Context(), port.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, fromHarness(stored)); diff != "" {
			t.Errorf("%s: Neutron's port (-want +got):\n%s", s.name, diff)
		}
	}
}

// TestBindErrors: a deleted port is ErrPortNotFound, a value Neutron
// refuses is its message, neither being "unavailable".
func TestBindErrors(t *testing.T) {
	client := newClient(t, testNeutron.URL)
	port := createPorts(t, 1)[0]

	_, err := client.Bind(t.Context(), port.ID, "node", "not-a-vnic-type")
	if err == nil || errors.Is(err, neutron.ErrUnavailable) || errors.Is(err, neutron.ErrPortNotFound) ||
		!strings.Contains(err.Error(), "HTTP 400") || !strings.Contains(err.Error(), "not-a-vnic-type") {
		t.Errorf("bad vnic_type: err %v, want Neutron's 400 naming the value", err)
	}

	if err := testNeutron.DeletePort(t.Context(), port.ID); err != nil {
		t.Fatal(err)
	}
	_, err = client.Bind(t.Context(), port.ID, "node", "baremetal")
	if !errors.Is(err, neutron.ErrPortNotFound) || !strings.Contains(err.Error(), port.ID) {
		t.Errorf("deleted port: err %v, want ErrPortNotFound naming %s", err, port.ID)
	}
}
