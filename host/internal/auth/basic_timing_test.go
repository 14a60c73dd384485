package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestHTTPBasicUnknownUserComparesAtFileCost is issue 8 row 7: an unknown
// user must cost one bcrypt comparison at the cost the file's users have,
// as a wrong password does, so user names cannot be told by timing. The
// comparisons are counted and their cost read, not timed.
func TestHTTPBasicUnknownUserComparesAtFileCost(t *testing.T) {
	tests := map[string]struct {
		costs    []int // one user per entry
		wantCost int   // of the dummy hash
	}{
		"every user at htpasswd -B's default": {costs: []int{5, 5, 5}, wantCost: 5},
		"every user at bcrypt's minimum":      {costs: []int{4, 4}, wantCost: 4},
		"one user at 6":                       {costs: []int{6}, wantCost: 6},
		"mixed: the most common cost":         {costs: []int{4, 6, 6}, wantCost: 6},
		"mixed: a tie takes the higher cost":  {costs: []int{4, 5}, wantCost: 5},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var lines []string
			for i, c := range tt.costs {
				h, err := bcrypt.GenerateFromPassword([]byte(fmt.Sprintf("pw%d", i)), c)
				if err != nil {
					t.Fatal(err)
				}
				lines = append(lines, fmt.Sprintf("user%d:%s", i, h))
			}
			path := filepath.Join(t.TempDir(), "htpasswd")
			if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			b, err := NewHTTPBasic(path)
			if err != nil {
				t.Fatal(err)
			}
			var compared []int // the cost of each hash compared
			b.compare = func(hash, password []byte) error {
				c, err := bcrypt.Cost(hash)
				if err != nil {
					t.Errorf("compared a hash that is not bcrypt: %v", err)
				}
				compared = append(compared, c)
				return bcrypt.CompareHashAndPassword(hash, password)
			}
			attempt := func(user, password string) []int {
				t.Helper()
				compared = nil
				r := httptest.NewRequest("GET", "/v1/servers", nil)
				r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
				if _, err := b.Authenticate(t.Context(), r); !errors.Is(err, ErrUnauthenticated) {
					t.Fatalf("%s: err = %v; want ErrUnauthenticated", user, err)
				}
				return compared
			}
			unknown := attempt("nobody", "pw0")
			if len(unknown) != 1 || unknown[0] != tt.wantCost {
				t.Errorf("unknown user: bcrypt comparisons at costs %v; want one at cost %d", unknown, tt.wantCost)
			}
			for i, c := range tt.costs {
				if got := attempt(fmt.Sprintf("user%d", i), "wrong"); len(got) != 1 || got[0] != c {
					t.Errorf("user%d, wrong password: bcrypt comparisons at costs %v; want one at cost %d", i, got, c)
				}
			}
		})
	}
}
