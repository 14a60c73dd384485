package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/driver"
)

func TestListing(t *testing.T) {
	control := filepath.Join(t.TempDir(), "control.json")
	if err := os.WriteFile(control, []byte(`{"count": 20}`), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &testDriver{log: hclog.NewNullLogger()}
	if err := d.Configure(t.Context(), map[string]string{"control_file": control}); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		opts driver.ListOptions
		want []int
	}{
		"all manageable":       {opts: driver.ListOptions{}, want: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18}},
		"include unmanageable": {opts: driver.ListOptions{IncludeUnmanageable: true, Limit: 11}, want: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		"resource class":       {opts: driver.ListOptions{ResourceClass: "silver"}, want: []int{1, 3, 5, 7, 11, 13, 15, 17}},
		"marker and limit":     {opts: driver.ListOptions{Marker: nodeUUID(8), Limit: 3}, want: []int{10, 11, 12}},
		"marker at the end":    {opts: driver.ListOptions{Marker: nodeUUID(19)}, want: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []int
			err := d.ListManageableNodes(t.Context(), tc.opts, func(n driver.Node) error {
				i, err := strconv.Atoi(n.Properties["index"])
				got = append(got, i)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("listing (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNodeIndexRoundTrip(t *testing.T) {
	for _, i := range []int{0, 1, 9, 99_999, 1 << 30} {
		got, ok := nodeIndex(nodeUUID(i), 1<<31)
		if !ok || got != i {
			t.Errorf("nodeIndex(nodeUUID(%d)) = %d, %v", i, got, ok)
		}
	}
	if _, ok := nodeIndex(nodeUUID(5), 5); ok {
		t.Error("nodeIndex accepted an index beyond count")
	}
	if _, ok := nodeIndex("not-a-uuid", 5); ok {
		t.Error("nodeIndex accepted a foreign UUID")
	}
}
