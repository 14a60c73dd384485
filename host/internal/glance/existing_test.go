package glance_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/glance"
	"github.com/mogan-manage/mogan-manage/testenv/clienttest"
	glanceenv "github.com/mogan-manage/mogan-manage/testenv/glance"
)

func newClient(t *testing.T, url string) *glance.Client {
	t.Helper()
	c, err := glance.New(t.Context(), map[string]string{"url": url, "timeout": "5"}, hclog.NewNullLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// createImages registers n images with fresh ids in g and returns the ids.
func createImages(t *testing.T, g *glanceenv.Glance, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewString()
		if err := g.CreateImage(t.Context(), ids[i], fmt.Sprintf("image-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func TestExisting(t *testing.T) {
	ids := createImages(t, env.glance, 2)
	found, deleted := ids[0], ids[1]
	if err := env.glance.DeleteImage(t.Context(), deleted); err != nil {
		t.Fatal(err)
	}
	community := uuid.NewString()
	body := map[string]any{"id": community, "name": "community", "visibility": "community"}
	if err := env.glance.Request(t.Context(), http.MethodPost, "/images", body, nil); err != nil {
		t.Fatal(err)
	}
	missing := uuid.NewString()
	proxy := clienttest.NewProxy(t, env.glance.URL)
	client := newClient(t, proxy.URL)

	tests := map[string]struct {
		ids      []string
		want     map[string]bool
		requests int
	}{
		"found":             {[]string{found}, map[string]bool{found: true}, 1},
		"missing":           {[]string{missing}, map[string]bool{}, 1},
		"deleted":           {[]string{deleted}, map[string]bool{}, 1},
		"community image":   {[]string{community}, map[string]bool{community: true}, 1},
		"mixed":             {[]string{missing, found, deleted}, map[string]bool{found: true}, 1},
		"http URL":          {[]string{"http://images.example.com/" + found + ".qcow2"}, map[string]bool{}, 0},
		"file URL":          {[]string{"file:///var/lib/images/" + found}, map[string]bool{}, 0},
		"name":              {[]string{"ubuntu-22.04", ""}, map[string]bool{}, 0},
		"none at all":       {nil, map[string]bool{}, 0},
		"other spellings":   {[]string{strings.ToUpper(found), strings.ReplaceAll(found, "-", ""), "{" + found + "}", "urn:uuid:" + found}, map[string]bool{strings.ToUpper(found): true, strings.ReplaceAll(found, "-", ""): true, "{" + found + "}": true, "urn:uuid:" + found: true}, 1},
		"repeated id, once": {[]string{found, found, missing, missing}, map[string]bool{found: true}, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			proxy.Take()
			got, err := client.Existing(t.Context(), tc.ids)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Existing(%v) (-want +got):\n%s", tc.ids, diff)
			}
			queries := takeQueries(proxy)
			if len(queries) != tc.requests {
				t.Errorf("%d requests, want %d: %q", len(queries), tc.requests, queries)
			}
			for _, q := range queries {
				if strings.Contains(q, "example.com") || strings.Contains(q, "file") || strings.Contains(q, "ubuntu") {
					t.Errorf("a request carries a value that is not a UUID: %s", q)
				}
			}
		})
	}
}

// N UUIDs cost ceil(N/50) listings, whatever mix of found and missing, and
// every id is asked once.
func TestExistingBatches(t *testing.T) {
	existing := createImages(t, env.glance, 60)
	proxy := clienttest.NewProxy(t, env.glance.URL)
	client := newClient(t, proxy.URL)

	tests := map[string]struct {
		found, missing int
		requests       int
	}{
		"one chunk, all found":  {50, 0, 1},
		"one chunk, mixed":      {25, 25, 1},
		"one over a chunk":      {26, 25, 2},
		"two chunks, all found": {60, 40, 2},
		"three chunks":          {60, 41, 3},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var ids []string
			want := map[string]bool{}
			for i := range tc.found {
				ids = append(ids, existing[i])
				want[existing[i]] = true
			}
			for range tc.missing {
				ids = append(ids, uuid.NewString())
			}
			// Interleave, so that found ids fall in every chunk.
			for i := range ids {
				j := (i * 7) % len(ids)
				ids[i], ids[j] = ids[j], ids[i]
			}
			ids = append(ids, "http://example.com/image.qcow2") // never sent, never counted
			proxy.Take()
			got, err := client.Existing(t.Context(), ids)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("found (-want +got):\n%s", diff)
			}
			queries := takeQueries(proxy)
			if len(queries) != tc.requests {
				t.Errorf("%d requests for %d ids, want %d", len(queries), tc.found+tc.missing, tc.requests)
			}
			asked := 0
			for _, q := range queries {
				asked += strings.Count(q, "-") / 4 // a UUID has four hyphens
				if len(q) > 4000 {
					t.Errorf("a query of %d characters", len(q))
				}
			}
			if asked != tc.found+tc.missing {
				t.Errorf("%d ids asked for, want %d (each once)", asked, tc.found+tc.missing)
			}
		})
	}
}

// A Glance whose pages are smaller than a chunk: the client follows them.
func TestExistingFollowsPages(t *testing.T) {
	t.Parallel()
	g, err := glanceenv.Start(t.Context(), t.TempDir(), glanceenv.WithPageLimit(3))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	ids := createImages(t, g, 10)
	proxy := clienttest.NewProxy(t, g.URL)
	got, err := newClient(t, proxy.URL).Existing(t.Context(), append(ids, uuid.NewString()))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("found (-want +got):\n%s", diff)
	}
	if n := len(proxy.Take()); n != 4 { // 3 + 3 + 3 + 1
		t.Errorf("%d requests, want 4 pages of at most 3", n)
	}
}

// With Glance gone, a lookup is ErrUnavailable naming Glance's URL,
// without the userinfo the url option carried.
func TestGlanceStopped(t *testing.T) {
	t.Parallel()
	g, err := glanceenv.Start(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	withUser := strings.Replace(g.URL, "http://", "http://mogan:s3cret@", 1)
	client := newClient(t, withUser)
	if _, err := client.Existing(t.Context(), []string{uuid.NewString()}); err != nil {
		t.Fatalf("before Stop: %v", err)
	}
	g.Stop()
	_, err = client.Existing(t.Context(), []string{uuid.NewString()})
	want := "Glance at " + g.URL + " is unavailable: "
	if !errors.Is(err, glance.ErrUnavailable) || !strings.HasPrefix(err.Error(), want) ||
		strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "mogan") {
		t.Errorf("err = %v, want ErrUnavailable starting %q, without the userinfo", err, want)
	}
}

// What a server in Glance's place answers: refusals, failures, a 404 (the
// url does not lead to Glance) and a body that is not Glance's are
// ErrUnavailable; a request Glance refuses is an error, but not that.
func TestStatuses(t *testing.T) {
	tests := map[string]struct {
		status          int
		body            string
		wantUnavailable bool
	}{
		"unauthorized":        {401, "401 Unauthorized", true},
		"forbidden":           {403, "403 Forbidden", true},
		"internal error":      {500, "boom", true},
		"bad gateway":         {502, "<html>proxy</html>", true},
		"service unavailable": {503, "", true},
		"not glance's 404":    {404, "<html>nope</html>", true},
		"bad request":         {400, "400 Bad Request: invalid filter", false},
		"not json":            {200, "<html>a login page</html>", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			_, err := newClient(t, srv.URL).Existing(t.Context(), []string{uuid.NewString()})
			if err == nil || errors.Is(err, glance.ErrUnavailable) != tc.wantUnavailable ||
				!strings.Contains(err.Error(), "Glance at "+srv.URL) {
				t.Errorf("err = %v, want unavailable %v, naming Glance at %s", err, tc.wantUnavailable, srv.URL)
			}
		})
	}
}

// A caller's deadline is the caller's: not ErrUnavailable.
func TestCallerDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	client := newClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := client.Existing(ctx, []string{uuid.NewString()})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, glance.ErrUnavailable) {
		t.Errorf("err = %v, want the caller's DeadlineExceeded, not ErrUnavailable", err)
	}
}
