package store

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

// fullServer sets every field, with times finer than TimePrecision.
func fullServer() Server {
	return Server{
		UUID:             "7de2859d-ec6d-42c7-bb86-9d630ba5ac94",
		Name:             "adopted-1",
		Description:      "adopted from the lab, ünïcode ok",
		NodeUUID:         "aacdbd78-d670-409e-95aa-ecfcfb94fee2",
		NodeName:         "node-1",
		ImageUUID:        "ac3b2291-b9ef-45f6-8eeb-21ac568a64a5",
		FlavorUUID:       "1c4b1f20-8a50-4de1-9f4c-6b9c9a0f2a11",
		Status:           StatusActive,
		PowerState:       "power on",
		Locked:           true,
		ProjectID:        "2f15c3524826465a9afbd150478b3b76",
		UserID:           "a6205fcab03d4a289251f420456b1289",
		AvailabilityZone: "nova",
		AffinityZone:     "rack-3",
		KeyName:          "ops",
		Metadata:         map[string]string{"k": "v", "with space": "x"},
		SystemMetadata:   map[string]string{"managed_server": "true"},
		Addresses: map[string][]Address{
			"c0d2f8a7-1b5e-4a3c-9f0e-2d6b8a4c1e3f": {{Addr: "10.0.0.5", Type: "fixed"}, {Addr: "fd00::5", Type: "fixed"}},
		},
		Partitions: map[string]int64{"root_gb": 10, "swap_mb": 512},
		CreatedAt:  time.Date(2017, 6, 21, 8, 12, 33, 123456789, time.FixedZone("CEST", 2*3600)),
		LaunchedAt: ptr(time.Date(2017, 6, 21, 8, 12, 34, 5000, time.UTC)),
		UpdatedAt:  ptr(time.Date(2017, 6, 22, 9, 0, 0, 999999999, time.UTC)),
		Bindings: []Binding{{PortID: "5d1f0c36-6e3b-4b0e-9b2a-3c1d2e4f5a6b", NetworkID: "c0d2f8a7-1b5e-4a3c-9f0e-2d6b8a4c1e3f",
			PrevHostID: "old-host", PrevVNICType: "normal"}},
		Fault: "node vanished",
	}
}

func TestServerRoundTrip(t *testing.T) {
	cases := map[string]struct {
		in   func() Server
		want func() Server // what GetServer returns
	}{
		"every field set, times normalized to UTC microseconds": {
			in: fullServer,
			want: func() Server {
				s := fullServer()
				s.CreatedAt = time.Date(2017, 6, 21, 6, 12, 33, 123456000, time.UTC)
				s.LaunchedAt = ptr(time.Date(2017, 6, 21, 8, 12, 34, 5000, time.UTC))
				s.UpdatedAt = ptr(time.Date(2017, 6, 22, 9, 0, 0, 999999000, time.UTC))
				return s
			},
		},
		"only required fields, nil maps and times stay nil": {
			in: func() Server {
				return Server{UUID: "u-min", Name: "n", NodeUUID: "node-min", Status: StatusBuilding,
					CreatedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
			},
			want: func() Server {
				return Server{UUID: "u-min", Name: "n", NodeUUID: "node-min", Status: StatusBuilding,
					CreatedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
			},
		},
		"empty maps stay empty, not nil": {
			in: func() Server {
				return Server{UUID: "u-empty", Name: "n", NodeUUID: "node-empty", Status: StatusStopped,
					PowerState: "power off", Metadata: map[string]string{}, SystemMetadata: map[string]string{},
					Addresses: map[string][]Address{}, Partitions: map[string]int64{},
					CreatedAt: time.Date(2020, 1, 1, 0, 0, 0, 1000, time.UTC)}
			},
			want: func() Server {
				return Server{UUID: "u-empty", Name: "n", NodeUUID: "node-empty", Status: StatusStopped,
					PowerState: "power off", Metadata: map[string]string{}, SystemMetadata: map[string]string{},
					Addresses: map[string][]Address{}, Partitions: map[string]int64{},
					CreatedAt: time.Date(2020, 1, 1, 0, 0, 0, 1000, time.UTC)}
			},
		},
	}
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			for name, tc := range cases {
				t.Run(name, func(t *testing.T) {
					if err := st.CreateServer(t.Context(), tc.in()); err != nil {
						t.Fatalf("CreateServer: %v", err)
					}
					got, err := st.GetServer(t.Context(), tc.in().UUID)
					if err != nil {
						t.Fatalf("GetServer: %v", err)
					}
					want := tc.want()
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("GetServer (-want +got):\n%s", diff)
					}
					// cmp compares times with Equal; the zone must be UTC too.
					if got.CreatedAt.Location() != time.UTC {
						t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
					}
				})
			}
		})
	}
}

func TestCreateServerSetsZeroCreatedAt(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			before := time.Now().Truncate(TimePrecision)
			if err := st.CreateServer(t.Context(), Server{UUID: "u", NodeUUID: "n", Name: "x"}); err != nil {
				t.Fatalf("CreateServer: %v", err)
			}
			got, err := st.GetServer(t.Context(), "u")
			if err != nil {
				t.Fatalf("GetServer: %v", err)
			}
			if got.CreatedAt.Before(before) || got.CreatedAt.After(time.Now()) {
				t.Errorf("CreatedAt = %v, want between %v and now", got.CreatedAt, before)
			}
		})
	}
}

func TestUpdateServer(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			ctx := t.Context()
			orig := fullServer()
			if err := st.CreateServer(ctx, orig); err != nil {
				t.Fatalf("CreateServer: %v", err)
			}
			other := Server{UUID: "other", Name: "o", NodeUUID: "node-other", CreatedAt: orig.CreatedAt}
			if err := st.CreateServer(ctx, other); err != nil {
				t.Fatalf("CreateServer other: %v", err)
			}

			// Change every field but the UUID; CreatedAt must not move.
			changed := Server{
				UUID: orig.UUID, Name: "renamed", NodeUUID: "node-moved", Status: StatusStopped,
				PowerState: "power off", ProjectID: "p2", UserID: "u2", KeyName: "k2",
				Metadata: map[string]string{"new": "1"}, Addresses: map[string][]Address{},
				CreatedAt: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC),
			}
			before := time.Now().Truncate(TimePrecision)
			updated, err := st.UpdateServer(ctx, changed)
			if err != nil {
				t.Fatalf("UpdateServer: %v", err)
			}
			if updated.UpdatedAt == nil || updated.UpdatedAt.Before(before) {
				t.Fatalf("UpdatedAt = %v, want set to about now (%v)", updated.UpdatedAt, before)
			}
			want := changed
			want.CreatedAt = normalizeTime(orig.CreatedAt)
			want.UpdatedAt = updated.UpdatedAt
			if diff := cmp.Diff(want, updated); diff != "" {
				t.Errorf("UpdateServer result (-want +got):\n%s", diff)
			}
			got, err := st.GetServer(ctx, orig.UUID)
			if err != nil {
				t.Fatalf("GetServer: %v", err)
			}
			if diff := cmp.Diff(updated, got); diff != "" {
				t.Errorf("GetServer after update (-returned +stored):\n%s", diff)
			}

			errCases := map[string]struct {
				s    Server
				want error
			}{
				"unknown server": {s: Server{UUID: "nope", NodeUUID: "node-x"}, want: ErrNotFound},
				"moving onto a claimed node": {
					s: Server{UUID: orig.UUID, Name: "x", NodeUUID: other.NodeUUID}, want: ErrNodeTaken},
			}
			for name, tc := range errCases {
				t.Run(name, func(t *testing.T) {
					if _, err := st.UpdateServer(ctx, tc.s); !errors.Is(err, tc.want) {
						t.Errorf("UpdateServer = %v, want %v", err, tc.want)
					}
				})
			}
		})
	}
}

func TestCreateConflicts(t *testing.T) {
	cases := map[string]struct {
		second Server
		want   error
	}{
		"same node, new uuid":        {second: Server{UUID: "u2", Name: "b", NodeUUID: "node-1"}, want: ErrNodeTaken},
		"same uuid, other node":      {second: Server{UUID: "u1", Name: "b", NodeUUID: "node-2"}, want: ErrServerExists},
		"empty uuid is refused":      {second: Server{Name: "b", NodeUUID: "node-3"}, want: nil},
		"empty node uuid is refused": {second: Server{UUID: "u4", Name: "b"}, want: nil},
	}
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			ctx := t.Context()
			first := Server{UUID: "u1", Name: "a", NodeUUID: "node-1"}
			if err := st.CreateServer(ctx, first); err != nil {
				t.Fatalf("CreateServer: %v", err)
			}
			for name, tc := range cases {
				t.Run(name, func(t *testing.T) {
					err := st.CreateServer(ctx, tc.second)
					switch {
					case err == nil:
						t.Fatalf("CreateServer succeeded, want an error")
					case tc.want != nil && !errors.Is(err, tc.want):
						t.Errorf("CreateServer = %v, want %v", err, tc.want)
					case tc.want == nil && (errors.Is(err, ErrNodeTaken) || errors.Is(err, ErrServerExists)):
						t.Errorf("CreateServer = %v, want a validation error", err)
					}
				})
			}
			got, err := st.GetServer(ctx, "u1")
			if err != nil || got.NodeUUID != "node-1" || got.Name != "a" {
				t.Errorf("first server after conflicts = %+v, %v; want it unchanged", got, err)
			}
			// Releasing the node frees the claim.
			if err := st.DeleteServer(ctx, "u1"); err != nil {
				t.Fatalf("DeleteServer: %v", err)
			}
			if err := st.CreateServer(ctx, Server{UUID: "u5", Name: "c", NodeUUID: "node-1"}); err != nil {
				t.Errorf("CreateServer after release: %v", err)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	cases := map[string]func(st Store) error{
		"get": func(st Store) error {
			_, err := st.GetServer(t.Context(), "missing")
			return err
		},
		"update": func(st Store) error {
			_, err := st.UpdateServer(t.Context(), Server{UUID: "missing", NodeUUID: "n"})
			return err
		},
		"delete": func(st Store) error { return st.DeleteServer(t.Context(), "missing") },
		"delete twice": func(st Store) error {
			if err := st.CreateServer(t.Context(), Server{UUID: "present", Name: "p", NodeUUID: "n"}); err != nil {
				return fmt.Errorf("create: %w", err)
			}
			if err := st.DeleteServer(t.Context(), "present"); err != nil {
				return fmt.Errorf("first delete: %w", err)
			}
			return st.DeleteServer(t.Context(), "present")
		},
		"list with unknown marker": func(st Store) error {
			_, err := st.ListServers(t.Context(), ListOptions{Marker: "missing"})
			return err
		},
	}
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			for name, call := range cases {
				t.Run(name, func(t *testing.T) {
					if err := call(st); !errors.Is(err, ErrNotFound) {
						t.Errorf("got %v, want ErrNotFound", err)
					}
				})
			}
		})
	}
}
