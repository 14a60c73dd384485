package e2e

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/mogan-manage/mogan-manage/testenv/postgrestest"
)

// postgresAdminURL is the PostgreSQL server the tests create databases on.
func postgresAdminURL() string { return postgrestest.AdminURL() }

// createDatabase makes a fresh PostgreSQL database for this test and drops
// it at the end; it returns its connection string.
func createDatabase(t *testing.T) string {
	t.Helper()
	return postgrestest.NewDatabase(t, "mogan_e2e")
}

// TestTwoReplicasOnePostgresOneWinner: two mogan-api processes share one
// PostgreSQL database; 50 concurrent POSTs for one node, spread over both,
// give exactly one 201 and 49 409s.
func TestTwoReplicasOnePostgresOneWinner(t *testing.T) {
	conn := createDatabase(t)
	extra := "[driver]\nname = test\n"
	// Replicas sharing a database each need a [DEFAULT] host of their own.
	confA := strings.Replace(hostConfig(t, conn, extra), "[DEFAULT]\n", "[DEFAULT]\nhost = replica-a\n", 1)
	dbSync(t, confA)
	a := startHost(t, confA)
	b := startHost(t, strings.Replace(hostConfig(t, conn, extra), "[DEFAULT]\n", "[DEFAULT]\nhost = replica-b\n", 1))

	// Node 0 of the test driver is manageable.
	const node = "00000000-0000-4000-8000-000000000000"
	body := `{"name": "raced", "node_uuid": "` + node + `"}`
	const n = 50
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		url := a.URL
		if i%2 == 1 {
			url = b.URL
		}
		wg.Go(func() {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/v1/manageable_servers", strings.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	if count[http.StatusCreated] != 1 || count[http.StatusConflict] != n-1 {
		t.Errorf("statuses over two replicas = %v; want 1 × 201 and %d × 409", count, n-1)
	}
}
