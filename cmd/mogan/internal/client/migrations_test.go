package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mogan-manage/mogan-manage/shared/inventory"
)

// TestMigrationRequestPrintsNoSecret: a request printed with any verb
// shows ****** for each secret; its JSON, the body, carries the value.
func TestMigrationRequestPrintsNoSecret(t *testing.T) {
	const pw = "Qq3-printed-never"
	r := MigrationRequest{Source: MigrationSource{Backend: "a", NodeUUID: "n"}, Secrets: map[string]inventory.Secret{"ipmi_password": pw}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range []any{r, &r, r.Secrets} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, pw) || strings.Contains(out, fmt.Sprintf("%x", pw)) {
				t.Errorf("%s shows the secret: %s", verb, out)
			}
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"secrets":{"ipmi_password":"`+pw+`"}`) {
		t.Errorf("the body lacks the secret: %s", b)
	}
}

// TestListMigrationsPages: the listing is read page by page with the last
// uuid as marker, and stops at --limit.
func TestListMigrationsPages(t *testing.T) {
	const total = migrationsPage + 5
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		queries = append(queries, r.URL.RawQuery)
		start := 0
		if m := q.Get("marker"); m != "" {
			start, _ = strconv.Atoi(m)
			start++
		}
		limit, _ := strconv.Atoi(q.Get("limit"))
		var page []map[string]any
		for i := start; i < total && len(page) < limit; i++ {
			page = append(page, map[string]any{"uuid": strconv.Itoa(i), "status": "done"})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"migrations": page})
	}))
	defer srv.Close()
	c, err := Connect(context.Background(), Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		opts        ListMigrationsOptions
		wantN       int
		wantQueries []string
	}{
		"every one": {ListMigrationsOptions{}, total, []string{"limit=1000", "limit=1000&marker=999"}},
		"a limit":   {ListMigrationsOptions{Limit: 3, Status: "done"}, 3, []string{"limit=3&status=done"}},
		"a limit past a page": {ListMigrationsOptions{Limit: migrationsPage + 2}, migrationsPage + 2,
			[]string{"limit=1000", "limit=2&marker=999"}},
	} {
		t.Run(name, func(t *testing.T) {
			queries = nil
			got, err := c.ListMigrations(context.Background(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.wantN {
				t.Errorf("%d migrations; want %d", len(got), tc.wantN)
			}
			if diff := cmp.Diff(tc.wantQueries, queries); diff != "" {
				t.Errorf("queries (-want +got):\n%s", diff)
			}
		})
	}
}
