package store

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestListServers(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	// Inserted out of order; "b" and "c" share a creation time, so the
	// uuid breaks the tie. Order: a, b, c, d, e.
	seed := []Server{
		{UUID: "d", NodeUUID: "n-d", ProjectID: "p1", CreatedAt: t0.Add(2 * time.Second)},
		{UUID: "c", NodeUUID: "n-c", ProjectID: "p2", CreatedAt: t0.Add(time.Second)},
		{UUID: "a", NodeUUID: "n-a", ProjectID: "p1", CreatedAt: t0},
		{UUID: "e", NodeUUID: "n-e", ProjectID: "p2", CreatedAt: t0.Add(2*time.Second + time.Microsecond)},
		{UUID: "b", NodeUUID: "n-b", ProjectID: "p1", CreatedAt: t0.Add(time.Second)},
	}
	cases := map[string]struct {
		opts    ListOptions
		want    []string
		wantErr error
	}{
		"all":                        {opts: ListOptions{}, want: []string{"a", "b", "c", "d", "e"}},
		"limit":                      {opts: ListOptions{Limit: 2}, want: []string{"a", "b"}},
		"limit above count":          {opts: ListOptions{Limit: 50}, want: []string{"a", "b", "c", "d", "e"}},
		"marker on a tie":            {opts: ListOptions{Marker: "b"}, want: []string{"c", "d", "e"}},
		"marker and limit":           {opts: ListOptions{Marker: "a", Limit: 2}, want: []string{"b", "c"}},
		"marker on the last":         {opts: ListOptions{Marker: "e"}, want: []string{}},
		"project":                    {opts: ListOptions{ProjectID: "p2"}, want: []string{"c", "e"}},
		"project and marker":         {opts: ListOptions{ProjectID: "p1", Marker: "b"}, want: []string{"d"}},
		"project without servers":    {opts: ListOptions{ProjectID: "p9"}, want: []string{}},
		"unknown marker":             {opts: ListOptions{Marker: "zz"}, wantErr: ErrNotFound},
		"marker of another project":  {opts: ListOptions{ProjectID: "p2", Marker: "a"}, wantErr: ErrNotFound},
		"negative limit is an error": {opts: ListOptions{Limit: -1}, wantErr: errAny},
		"limit one after a marker":   {opts: ListOptions{Limit: 1, Marker: "c"}, want: []string{"d"}},
	}
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			for _, s := range seed {
				s.Name = "server-" + s.UUID
				if err := st.CreateServer(t.Context(), s); err != nil {
					t.Fatalf("CreateServer %s: %v", s.UUID, err)
				}
			}
			for name, tc := range cases {
				t.Run(name, func(t *testing.T) {
					got, err := st.ListServers(t.Context(), tc.opts)
					if tc.wantErr != nil {
						if err == nil || (!errors.Is(tc.wantErr, errAny) && !errors.Is(err, tc.wantErr)) {
							t.Fatalf("ListServers = %v, want %v", err, tc.wantErr)
						}
						return
					}
					if err != nil {
						t.Fatalf("ListServers: %v", err)
					}
					uuids := []string{}
					for _, s := range got {
						uuids = append(uuids, s.UUID)
					}
					if diff := cmp.Diff(tc.want, uuids); diff != "" {
						t.Errorf("ListServers uuids (-want +got):\n%s", diff)
					}
				})
			}
			// Walking page by page visits every server once, in order.
			var walked []string
			marker := ""
			for range len(seed) + 1 {
				page, err := st.ListServers(t.Context(), ListOptions{Limit: 2, Marker: marker})
				if err != nil {
					t.Fatalf("ListServers page after %q: %v", marker, err)
				}
				if len(page) == 0 {
					break
				}
				for _, s := range page {
					walked = append(walked, s.UUID)
				}
				marker = page[len(page)-1].UUID
			}
			if diff := cmp.Diff([]string{"a", "b", "c", "d", "e"}, walked); diff != "" {
				t.Errorf("paging (-want +got):\n%s", diff)
			}
		})
	}
}

// errAny stands for "some error" in a table.
var errAny = errors.New("any error")
