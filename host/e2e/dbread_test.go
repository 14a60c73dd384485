package e2e

import (
	"database/sql"
	"testing"

	_ "modernc.org/sqlite" // database/sql driver "sqlite": the tests read the host's database as it is
)

// openSQLite opens the host's SQLite database read-only, next to the host
// (WAL lets both read it).
func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// tableCounts counts the rows of every table of the SQLite database.
func tableCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	db := openSQLite(t, path)
	rows, err := db.QueryContext(t.Context(), `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, table := range tables {
		var n int
		if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM "`+table+`"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	for _, want := range []string{"servers", "intents", "tombstones", "actions"} {
		if _, ok := out[want]; !ok {
			t.Fatalf("the database has no %s table: %v", want, out)
		}
	}
	return out
}

// intentServers lists the server uuids of the intents in the database
// (adoptions a killed host left unfinished).
func intentServers(t *testing.T, path string) []string {
	t.Helper()
	rows, err := openSQLite(t, path).QueryContext(t.Context(), `SELECT server_uuid FROM intents ORDER BY server_uuid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}
