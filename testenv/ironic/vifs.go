package ironic

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ReplaceVIFs rewrites VIF ids recorded on ports and portgroups
// (extra.vif_port_id and internal_info.tenant_vif_port_id), each old id in
// ids becoming its new one, in Ironic's database (f.DB is required), in
// one transaction, while Ironic runs. BulkLoad's copies record VIFs that
// name nothing; a cloud that gives them real Neutron ports afterwards (made
// in bulk, far faster than one per node as Enroll's NewVIF does) records
// those ports' ids with it. Ids are uuids, so a textual replace touches
// nothing else.
func (f *Fixture) ReplaceVIFs(ctx context.Context, ids map[string]string) (err error) {
	if f.DB == "" {
		return errors.New("ReplaceVIFs writes Ironic's SQLite database: the Fixture needs DB (Server.Fixture sets it)")
	}
	db, err := sql.Open("sqlite", "file:"+f.DB+"?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, table := range []string{"ports", "portgroups"} {
		// table is one of two constants, never input.
		stmt, err := tx.PrepareContext(ctx, "UPDATE "+table+` SET extra = replace(extra, :old, :new),
			internal_info = replace(internal_info, :old, :new)
			WHERE instr(extra, :old) > 0 OR instr(internal_info, :old) > 0`)
		if err != nil {
			return err
		}
		for old, vif := range ids {
			if _, err := stmt.ExecContext(ctx, sql.Named("old", old), sql.Named("new", vif)); err != nil {
				return fmt.Errorf("replacing VIF %s in %s: %w", old, table, err)
			}
		}
	}
	return tx.Commit()
}
