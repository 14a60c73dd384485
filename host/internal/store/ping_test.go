package store

import (
	"strings"
	"testing"
)

// Ping answers nil while the database answers, an error naming the engine
// once it does not (here: closed), on both engines.
func TestPing(t *testing.T) {
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			st, _ := migratedStore(t, eng)
			if err := Ping(t.Context(), st); err != nil {
				t.Fatalf("Ping on an open store: %v", err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			if err := Ping(t.Context(), st); err == nil || !strings.Contains(err.Error(), "the "+eng.name+" database") {
				t.Errorf("Ping on a closed store = %v, want an error naming the %s database", err, eng.name)
			}
		})
	}
}
