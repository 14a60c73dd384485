package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestClaimRace: many requests adopt one node at once; the unique
// constraint lets exactly one win, also across separate pools (as two host
// processes sharing one database would have).
func TestClaimRace(t *testing.T) {
	const racers = 50
	cases := map[string]struct {
		stores int
	}{
		"one store":  {stores: 1},
		"two stores": {stores: 2},
	}
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			for name, tc := range cases {
				t.Run(name, func(t *testing.T) {
					_, conn := migratedStore(t, eng)
					stores := []Store{}
					for range tc.stores {
						stores = append(stores, openStore(t, conn))
					}
					start := make(chan struct{})
					errs := make([]error, racers)
					var wg sync.WaitGroup
					for i := range racers {
						wg.Go(func() {
							<-start
							errs[i] = stores[i%len(stores)].CreateServer(t.Context(), Server{
								UUID: fmt.Sprintf("server-%02d", i), Name: "race", NodeUUID: "the-node",
							})
						})
					}
					close(start)
					wg.Wait()

					wins, taken := 0, 0
					for i, err := range errs {
						switch {
						case err == nil:
							wins++
						case errors.Is(err, ErrNodeTaken):
							taken++
						default:
							t.Errorf("racer %d: %v, want nil or ErrNodeTaken", i, err)
						}
					}
					if wins != 1 || taken != racers-1 {
						t.Errorf("wins = %d, ErrNodeTaken = %d; want 1 and %d", wins, taken, racers-1)
					}
					all, err := stores[0].ListServers(t.Context(), ListOptions{})
					if err != nil {
						t.Fatalf("ListServers: %v", err)
					}
					if len(all) != 1 || all[0].NodeUUID != "the-node" {
						t.Errorf("stored servers = %d (%+v), want exactly one on the node", len(all), all)
					}
				})
			}
		})
	}
}
