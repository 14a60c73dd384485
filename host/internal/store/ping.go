package store

import (
	"context"
	"errors"
	"fmt"
)

// Ping reports whether st's database answers a query, for the host's
// readiness check. A Store that cannot tell (a test's fake) answers nil.
func Ping(ctx context.Context, st Store) error {
	s, ok := st.(*sqlStore)
	if !ok {
		return nil
	}
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return fmt.Errorf("the %s database did not answer in time: %w", s.engine, err)
		}
		return fmt.Errorf("the %s database: %w", s.engine, err)
	}
	return nil
}
