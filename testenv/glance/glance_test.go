package glance_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/testenv/glance"
)

// TestGlance starts Glance with two-image pages, creates images with fixed
// ids, finds exactly them with an id=in: listing that pages, deletes one,
// and checks that Stop leaves no process behind.
func TestGlance(t *testing.T) {
	g, err := glance.Start(t.Context(), t.TempDir(), glance.WithPageLimit(2))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	ctx := t.Context()

	ids := []string{
		"11111111-1111-4111-8111-111111111111",
		"22222222-2222-4222-8222-222222222222",
		"33333333-3333-4333-8333-333333333333",
	}
	const unknown = "44444444-4444-4444-8444-444444444444"
	for i, id := range ids {
		if err := g.CreateImage(ctx, id, "image-"+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	var image struct{ ID, Name, Status string }
	if err := g.Request(ctx, http.MethodGet, "/images/"+ids[0], nil, &image); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(struct{ ID, Name, Status string }{ids[0], "image-a", "queued"}, image); diff != "" {
		t.Errorf("created image (-want +got):\n%s", diff)
	}
	if err := g.Request(ctx, http.MethodGet, "/images/"+unknown, nil, nil); !errors.Is(err, glance.ErrNotFound) {
		t.Errorf("GET an unknown image: err = %v, want ErrNotFound", err)
	}

	listed := func() (found []string, pages int) {
		t.Helper()
		path := "/images?id=in:" + strings.Join(append(slices.Clone(ids), unknown), ",")
		for path != "" {
			var page struct {
				Images []struct{ ID string }
				Next   string
			}
			if err := g.Request(ctx, http.MethodGet, path, nil, &page); err != nil {
				t.Fatal(err)
			}
			pages++
			for _, im := range page.Images {
				found = append(found, im.ID)
			}
			path = strings.TrimPrefix(page.Next, "/v2")
		}
		slices.Sort(found)
		return found, pages
	}
	found, pages := listed()
	if diff := cmp.Diff(ids, found); diff != "" || pages != 2 {
		t.Errorf("id=in: listing over %d pages (want 2), ids (-want +got):\n%s", pages, diff)
	}

	if err := g.DeleteImage(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := g.DeleteImage(ctx, ids[1]); !errors.Is(err, glance.ErrNotFound) {
		t.Errorf("deleting twice: err = %v, want ErrNotFound", err)
	}
	if found, _ := listed(); !cmp.Equal([]string{ids[0], ids[2]}, found) {
		t.Errorf("after the delete, listed %v", found)
	}

	if len(g.Processes()) == 0 {
		t.Fatal("no process in Glance's group while it runs")
	}
	g.Stop()
	if left := g.Processes(); len(left) > 0 {
		t.Errorf("processes left after Stop: %v", left)
	}
	if err := g.Request(ctx, http.MethodGet, "/images", nil, nil); err == nil {
		t.Error("Glance still answers after Stop")
	}
	g.Stop() // twice is harmless
}
