package ironic

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Bulk loading. Enrolling through Ironic's API costs about 0.3 s a node
// (create, manage, adopt, power on, a request per port), which is hours
// for the tens of thousands of nodes a fleet-scale benchmark needs. So
// BulkLoad enrolls ONE template node through the API, exactly as Enroll
// does, and then copies its rows in Ironic's SQLite database n-1 times,
// changing only what must differ between nodes (id, uuid, name, the
// image, port and portgroup addresses and VIFs). Every other column —
// object versions, interfaces, timestamps, driver_internal_info,
// conductor_affinity, JSON formatting — is the value Ironic's own API
// wrote, so the copies are what that Ironic version would have written,
// without the loader knowing its schema. The copies never leave SQLite
// (INSERT … SELECT), so no value is re-encoded on the way.

// BulkOptions shape the nodes BulkLoad writes.
type BulkOptions struct {
	// ResourceClass of every node; default "baremetal".
	ResourceClass string
	// Portgroup gives each node a portgroup recording two VIFs (one in
	// internal_info, one in extra) besides its two ports.
	Portgroup bool
	// OnePort gives each node only the first of the two ports, the one
	// recording its VIF in internal_info: a node with one VIF, when each
	// VIF costs (a real Neutron port to make, to bind).
	OnePort bool
	// Batch is how many nodes go in one transaction; default 5000.
	Batch int
}

// BulkLoad adds n adoptable nodes (active, powered on, unassociated, not
// in maintenance, with resource_class and instance_info.image_source),
// each with two ports — one recording a VIF in internal_info, one in
// extra (with opts.OnePort only the first) — and with opts.Portgroup a
// portgroup. The first is enrolled
// through Ironic's API, the rest are copies of its rows written straight
// into Ironic's database (f.DB is required) in a few big transactions,
// while Ironic runs: WAL mode lets it keep reading. Nodes come back in
// Ironic's order (by internal id), template first. It may be called again
// on the same Ironic; addresses stay unique.
func (f *Fixture) BulkLoad(ctx context.Context, n int, opts BulkOptions) ([]Node, error) {
	if f.DB == "" {
		return nil, errors.New("BulkLoad writes Ironic's SQLite database: the Fixture needs DB (Server.Fixture sets it)")
	}
	if n < 1 {
		return nil, nil
	}
	if opts.ResourceClass == "" {
		opts.ResourceClass = "baremetal"
	}
	if opts.Batch <= 0 {
		opts.Batch = 5000
	}
	hc := f.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	// _txlock=immediate takes the write lock at BEGIN, so the ids read in
	// a transaction stay free until it commits even while Ironic writes.
	db, err := sql.Open("sqlite", "file:"+f.DB+"?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)

	sh := &shape{ports: []vifs{{internal: true}, {extra: true}}}
	if opts.OnePort {
		sh.ports = sh.ports[:1]
	}
	if opts.Portgroup {
		sh.portgroups = []vifs{{internal: true, extra: true}}
	}
	e := &enroller{url: f.URL, hc: hc, db: db, newVIF: f.NewVIF, shape: sh}
	tmpl, err := e.node(ctx, KindAdoptable, opts.ResourceClass)
	if err != nil {
		return nil, fmt.Errorf("bulk load: enrolling the template node through the API: %w", err)
	}
	nodes := make([]Node, 0, n)
	nodes = append(nodes, tmpl)
	for len(nodes) < n {
		batch := min(opts.Batch, n-len(nodes))
		more, err := copyNodes(ctx, db, tmpl, batch)
		if err != nil {
			return nodes, fmt.Errorf("bulk load: %w", err)
		}
		nodes = append(nodes, more...)
	}
	// Fold the WAL into the database so that Ironic does not read a
	// large log on every query.
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return nodes, fmt.Errorf("bulk load: checkpoint: %w", err)
	}
	return nodes, nil
}

// templateRows are the database ids of the template node's rows.
type templateRows struct {
	node              int64
	ports, portgroups []int64
}

// copyNodes writes count copies of the template node in one transaction.
func copyNodes(ctx context.Context, db *sql.DB, tmpl Node, count int) (_ []Node, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	rows, err := findTemplate(ctx, tx, tmpl)
	if err != nil {
		return nil, err
	}
	next := map[string]int64{}
	for _, table := range []string{"nodes", "ports", "portgroups"} {
		var id int64
		// table is one of three constants, never input.
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM "+table).Scan(&id); err != nil {
			return nil, err
		}
		next[table] = id + 1
	}
	nodeStmt, err := copyStatement(ctx, tx, "nodes", map[string]string{
		"id": ":id", "uuid": ":uuid", "name": ":name",
		"instance_info": "replace(instance_info, :old_image, :image)",
	})
	if err != nil {
		return nil, err
	}
	vifSubs := map[string]string{
		"id": ":id", "uuid": ":uuid", "address": ":address", "node_id": ":node_id",
		"extra":         "replace(extra, :old_extra, :extra)",
		"internal_info": "replace(internal_info, :old_internal, :internal)",
	}
	portStmt, err := copyStatement(ctx, tx, "ports", vifSubs)
	if err != nil {
		return nil, err
	}
	pgStmt, err := copyStatement(ctx, tx, "portgroups", vifSubs)
	if err != nil {
		return nil, err
	}
	out := make([]Node, count)
	for i := range out {
		nodeID := next["nodes"]
		next["nodes"]++
		id := uuid.NewString()
		n := Node{
			UUID: id, Name: "adoptable-" + id, Kind: KindAdoptable,
			ResourceClass: tmpl.ResourceClass, ImageSource: uuid.NewString(),
		}
		if _, err := nodeStmt.ExecContext(ctx, sql.Named("id", nodeID), sql.Named("uuid", n.UUID), sql.Named("name", n.Name),
			sql.Named("old_image", tmpl.ImageSource), sql.Named("image", n.ImageSource), sql.Named("template", rows.node)); err != nil {
			return nil, fmt.Errorf("copying node %d: %w", rows.node, err)
		}
		for j, tp := range tmpl.Portgroups {
			pg := Portgroup{UUID: uuid.NewString(), Mode: tp.Mode}
			pgID := next["portgroups"]
			next["portgroups"]++
			// 52:56 and 52:55 (ports) never meet randomMAC's 52:54, and
			// row ids are unique, so addresses are too.
			pg.Address = idMAC(0x56, pgID)
			pg.InternalVIF, pg.ExtraVIF = newIf(tp.InternalVIF), newIf(tp.ExtraVIF)
			pg.NeutronPortID = firstOf(pg.InternalVIF, pg.ExtraVIF)
			if err := execVIFCopy(ctx, pgStmt, rows.portgroups[j], pgID, nodeID, pg.UUID, pg.Address,
				tp.ExtraVIF, pg.ExtraVIF, tp.InternalVIF, pg.InternalVIF); err != nil {
				return nil, fmt.Errorf("copying portgroup %d: %w", rows.portgroups[j], err)
			}
			n.Portgroups = append(n.Portgroups, pg)
		}
		for j, tp := range tmpl.Ports {
			p := Port{UUID: uuid.NewString()}
			portID := next["ports"]
			next["ports"]++
			p.Address = idMAC(0x55, portID)
			p.InternalVIF, p.ExtraVIF = newIf(tp.InternalVIF), newIf(tp.ExtraVIF)
			p.NeutronPortID = firstOf(p.InternalVIF, p.ExtraVIF)
			if err := execVIFCopy(ctx, portStmt, rows.ports[j], portID, nodeID, p.UUID, p.Address,
				tp.ExtraVIF, p.ExtraVIF, tp.InternalVIF, p.InternalVIF); err != nil {
				return nil, fmt.Errorf("copying port %d: %w", rows.ports[j], err)
			}
			n.Ports = append(n.Ports, p)
		}
		out[i] = n
	}
	return out, tx.Commit()
}

func execVIFCopy(ctx context.Context, stmt *sql.Stmt, template, id, nodeID int64, uid, address, oldExtra, extra, oldInternal, internal string) error {
	_, err := stmt.ExecContext(ctx, sql.Named("id", id), sql.Named("uuid", uid), sql.Named("address", address),
		sql.Named("node_id", nodeID), sql.Named("old_extra", oldExtra), sql.Named("extra", extra),
		sql.Named("old_internal", oldInternal), sql.Named("internal", internal), sql.Named("template", template))
	return err
}

// findTemplate reads the ids of the template's rows, ports and portgroups
// in the order Enroll recorded them.
func findTemplate(ctx context.Context, tx *sql.Tx, tmpl Node) (templateRows, error) {
	var r templateRows
	if err := tx.QueryRowContext(ctx, "SELECT id FROM nodes WHERE uuid = ?", tmpl.UUID).Scan(&r.node); err != nil {
		return r, fmt.Errorf("template node %s: %w", tmpl.UUID, err)
	}
	for _, p := range tmpl.Ports {
		var id int64
		if err := tx.QueryRowContext(ctx, "SELECT id FROM ports WHERE uuid = ?", p.UUID).Scan(&id); err != nil {
			return r, fmt.Errorf("template port %s: %w", p.UUID, err)
		}
		r.ports = append(r.ports, id)
	}
	for _, pg := range tmpl.Portgroups {
		var id int64
		if err := tx.QueryRowContext(ctx, "SELECT id FROM portgroups WHERE uuid = ?", pg.UUID).Scan(&id); err != nil {
			return r, fmt.Errorf("template portgroup %s: %w", pg.UUID, err)
		}
		r.portgroups = append(r.portgroups, id)
	}
	return r, nil
}

// copyStatement prepares INSERT INTO table (every column) SELECT (every
// column, or its expression in subs) FROM table WHERE id = :template.
func copyStatement(ctx context.Context, tx *sql.Tx, table string, subs map[string]string) (*sql.Stmt, error) {
	rows, err := tx.QueryContext(ctx, "SELECT name FROM pragma_table_info(?)", table)
	if err != nil {
		return nil, err
	}
	var cols, exprs []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			_ = rows.Close()
			return nil, err
		}
		q := `"` + c + `"`
		cols = append(cols, q)
		if e, ok := subs[c]; ok {
			exprs = append(exprs, e)
		} else {
			exprs = append(exprs, q)
		}
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("no table %s in the database: is it Ironic's?", table)
	}
	return tx.PrepareContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE id = :template",
		table, strings.Join(cols, ", "), strings.Join(exprs, ", "), table))
}

// newIf is a fresh VIF where the template has one.
func newIf(templateVIF string) string {
	if templateVIF == "" {
		return ""
	}
	return uuid.NewString()
}

// idMAC is a locally administered unicast address 52:<b>:<id, 32 bits>.
func idMAC(b byte, id int64) string {
	return fmt.Sprintf("52:%02x:%02x:%02x:%02x:%02x", b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
}
