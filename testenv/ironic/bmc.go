package ironic

import (
	"context"
	"database/sql"
	"fmt"
)

// powerOnTrigger is Options.PowerOnAtCreate: each node row inserted gets
// power_state "power on", what fake-hardware's power interface then reads
// back as the BMC's answer (ironic/drivers/modules/fake.py, FakePower).
const powerOnTrigger = `CREATE TRIGGER IF NOT EXISTS mogan_test_power_on_at_create AFTER INSERT ON nodes
FOR EACH ROW WHEN NEW.power_state IS NULL
BEGIN
	UPDATE nodes SET power_state = 'power on' WHERE id = NEW.id;
END`

// powerOnAtCreate installs powerOnTrigger in the server's database.
func (s *Server) powerOnAtCreate(ctx context.Context) error {
	db, err := sql.Open("sqlite", "file:"+s.DB+"?_pragma=busy_timeout(20000)")
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	if _, err := db.ExecContext(ctx, powerOnTrigger); err != nil {
		return fmt.Errorf("ironic: the power-on trigger: %w", err)
	}
	return nil
}
